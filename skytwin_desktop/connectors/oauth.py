"""Signing in to Google for one connector: the installed-app flow on a loopback redirect with
PKCE and a checked `state`, the browser opened through `webbrowser` (so BROWSER is honoured)."""

from __future__ import annotations

import json
import logging
import os
import webbrowser
from dataclasses import dataclass
from pathlib import Path

import requests
from google.oauth2.credentials import Credentials
from google_auth_oauthlib.flow import InstalledAppFlow
from oauthlib.oauth2.rfc6749.errors import OAuth2Error

from skytwin_desktop.connectors.endpoints import SCOPES, GoogleEndpoints
from skytwin_desktop.domain import Connector
from skytwin_desktop.errors import ConfigError, SkytwinError

log = logging.getLogger(__name__)
SIGN_IN_TIMEOUT = 300
"""Seconds to wait for the person to finish signing in, in the browser."""
NO_CLIENT = (
    "No Google sign-in is configured: set SKYTWIN_GOOGLE_CLIENT_SECRETS to the client-secrets JSON of a "
    "'Desktop app' OAuth client from Google Cloud Console (APIs & Services > Credentials), "
    "or try 'skytwin-desktop --demo'."
)


class SignInError(SkytwinError):
    """The sign-in did not finish: abandoned, timed out, refused, or answered wrongly."""

    exit_code = 1


@dataclass(frozen=True)
class ClientSecrets:
    client_id: str
    client_secret: str

    @classmethod
    def load(cls, path: Path | None) -> ClientSecrets:
        if path is None:
            raise ConfigError(NO_CLIENT)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            section = data.get("installed") or data.get("web")
            return cls(str(section["client_id"]), str(section["client_secret"]))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            raise ConfigError(
                f"SKYTWIN_GOOGLE_CLIENT_SECRETS: {path} is not a Google client-secrets JSON file "
                "(expected an 'installed' section with client_id and client_secret)"
            ) from None


def allow_loopback_http(api_root: str | None) -> None:
    """oauthlib refuses plain http; allow it only for the loopback sandbox (config checked the host)."""
    if api_root and api_root.startswith("http://"):
        os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"


def sign_in(connector: Connector, client: ClientSecrets, endpoints: GoogleEndpoints,
            timeout: int = SIGN_IN_TIMEOUT) -> Credentials:
    """Run the browser sign-in for this connector's scope; return credentials with a refresh token."""
    config = {
        "installed": {
            "client_id": client.client_id,
            "client_secret": client.client_secret,
            "auth_uri": endpoints.auth_uri,
            "token_uri": endpoints.token_uri,
            "redirect_uris": ["http://localhost"],
        }
    }
    flow = InstalledAppFlow.from_client_config(config, scopes=list(SCOPES[connector]),
                                               autogenerate_code_verifier=True)
    try:
        webbrowser.get()
        has_browser = True
    except webbrowser.Error:
        has_browser = False
    title = Connector(connector).title
    try:
        credentials = flow.run_local_server(
            host="127.0.0.1", port=0, open_browser=has_browser, timeout_seconds=timeout,
            authorization_prompt_message=(
                f"Sign in to Google for {title} in your browser"
                + ("" if has_browser else ": open this address there:\n{url}")
            ),
            success_message=f"SkyTwin is connected to your {title}. You can close this tab.",
            access_type="offline", prompt="consent",
        )
    except OAuth2Error as exc:
        raise SignInError(f"Google sign-in for {title} failed ({exc.error}).") from None
    except requests.RequestException:
        raise SignInError(f"Google sign-in for {title} failed: Google's sign-in service could not be reached.") from None
    except Exception as exc:  # the flow's time-out has no public type; report it plainly
        if type(exc).__name__ == "WSGITimeoutError":
            raise SignInError(f"Google sign-in for {title} was not finished within {timeout} seconds.") from None
        raise
    if not credentials.refresh_token:
        raise SignInError(f"Google did not grant lasting access to {title}; try connecting again.")
    return credentials
