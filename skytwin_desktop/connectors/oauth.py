"""Signing in to Google for one connector: the installed-app flow on a loopback redirect with
PKCE and a checked `state`, the browser opened through `webbrowser` (so BROWSER is honoured)."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from skytwin_desktop.connectors.endpoints import SCOPES, GoogleEndpoints
from skytwin_desktop.domain import Connector
from skytwin_desktop.errors import ConfigError, SkytwinError

if TYPE_CHECKING:  # the Google sign-in libraries and the one-off page's server load when a sign-in starts
    from wsgiref.simple_server import WSGIServer

    from google.oauth2.credentials import Credentials
    from google_auth_oauthlib.flow import InstalledAppFlow

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


class SignInCancelled(SignInError):
    """The person cancelled the sign-in from SkyTwin (not a failure to warn about)."""


CANCEL_CHECK_SECONDS = 0.5
"""How soon a Cancel is noticed while a sign-in waits (only then: the wait is at most minutes)."""
REFUSALS = {"access_denied": "access was declined on Google's page"}


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


class _Callback:
    """The loopback redirect's page. It answers only after the answer has been checked and the
    code exchanged, so the browser tab says what really happened: connected, or why not."""

    def __init__(self, flow: InstalledAppFlow, title: str) -> None:
        self.flow, self.title = flow, title
        self.expected_state = ""
        self.outcome: SignInError | bool | None = None
        """None while waiting; True once connected; the error in words otherwise."""

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        if environ.get("PATH_INFO", "/") != "/":  # the browser's favicon and the like
            start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8")])
            return [b"Not found"]
        query = parse_qs(environ.get("QUERY_STRING", ""))
        title = self.title
        if query.get("state", [""])[0] != self.expected_state:
            self.outcome = SignInError(f"Google sign-in for {title} failed: SkyTwin refused an answer that was not "
                                       "for the sign-in it asked for.")
            return self._page(start_response, "400 Bad Request", "SkyTwin refused this sign-in",
                              "This answer was not for the sign-in SkyTwin asked for, so it was refused. "
                              f"Nothing was connected. Start again from SkyTwin to connect {title}.")
        if "error" in query:
            error = query["error"][0]
            why = REFUSALS.get(error, f"Google said no ({error})")
            self.outcome = SignInError(f"{title} was not connected: {why}.")
            return self._page(start_response, "200 OK", f"{title} was not connected",
                              f"The sign-in did not go ahead: {why}. Nothing was connected.")
        from wsgiref.util import request_uri

        import requests
        from oauthlib.oauth2.rfc6749.errors import OAuth2Error

        try:  # oauthlib insists on https in the answer's address; the redirect itself is loopback http
            self.flow.fetch_token(authorization_response=request_uri(environ).replace("http", "https", 1))
        except OAuth2Error as exc:
            self.outcome = SignInError(f"Google sign-in for {title} failed ({exc.error}).")
        except requests.RequestException:
            self.outcome = SignInError(f"Google sign-in for {title} failed: Google's sign-in service could not be "
                                       "reached.")
        if isinstance(self.outcome, SignInError):
            return self._page(start_response, "200 OK", f"{title} was not connected",
                              f"{self.outcome} Nothing was connected; try again from SkyTwin.")
        self.outcome = True
        return self._page(start_response, "200 OK", f"SkyTwin is connected to your {title}",
                          "You can close this tab.")

    @staticmethod
    def _page(start_response: Any, status: str, title: str, text: str) -> list[bytes]:
        from html import escape

        start_response(status, [("Content-Type", "text/html; charset=utf-8")])
        return [f"<!DOCTYPE html><title>{escape(title)}</title><h1>{escape(title)}</h1><p>{escape(text)}</p>"
                .encode()]


def _duration(seconds: int) -> str:
    minutes, rest = divmod(seconds, 60)
    if minutes and not rest:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"


def _one_off_server(callback: _Callback) -> WSGIServer:
    """The page on 127.0.0.1 the browser comes back to (its modules load only for a sign-in)."""
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            """The request line carries the sign-in code: never print it."""

    return make_server("127.0.0.1", 0, callback, handler_class=QuietHandler)


def sign_in(connector: Connector, client: ClientSecrets, endpoints: GoogleEndpoints,
            timeout: int = SIGN_IN_TIMEOUT, tell: Callable[[str], None] = print,
            waiting: Callable[[str, int], None] | None = None, cancel: threading.Event | None = None) -> Credentials:
    """Run the browser sign-in for this connector's scope; return credentials with a refresh token.
    The browser comes back to a one-off page on 127.0.0.1 that checks the answer's `state`, exchanges
    the code (PKCE) and only then says whether it worked. `tell` gets the sign-in address and how
    long SkyTwin waits, always: a browser that did not open is not a dead end. `waiting(url,
    seconds)` hears the same for the windows; setting `cancel` ends the wait."""
    import webbrowser

    from google_auth_oauthlib.flow import InstalledAppFlow

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
    title = Connector(connector).display_name
    callback = _Callback(flow, title)
    server = _one_off_server(callback)
    try:
        flow.redirect_uri = f"http://127.0.0.1:{server.server_port}/"
        url, callback.expected_state = flow.authorization_url(access_type="offline", prompt="consent")
        opened = has_browser and webbrowser.get().open(url, new=1, autoraise=True)
        tell(f"Sign in to Google for {title} in your browser (SkyTwin waits up to {_duration(timeout)}). "
             + ("If it did not open, open" if opened else "Open") + f" this address there:\n{url}")
        if waiting is not None:
            waiting(url, timeout)
        deadline = time.monotonic() + timeout
        while callback.outcome is None:
            if cancel is not None and cancel.is_set():
                raise SignInCancelled(f"Sign-in for {title} cancelled; nothing was connected.")
            left = deadline - time.monotonic()
            if left <= 0:
                raise SignInError(f"Google sign-in for {title} was not finished within {_duration(timeout)}; "
                                  "nothing was connected. Try again when you are ready.")
            server.timeout = min(left, CANCEL_CHECK_SECONDS) if cancel is not None else left
            server.handle_request()  # one request, or none before the time-out
    finally:
        server.server_close()
    if isinstance(callback.outcome, SignInError):
        raise callback.outcome
    credentials: Credentials = flow.credentials
    if not credentials.refresh_token:
        raise SignInError(f"Google did not grant lasting access to {title}; try connecting again.")
    return credentials
