"""Authorised HTTP to Google with google-auth: time-outs on every request (token refreshes
included), and every failure turned into a `ConnectorFailure` that says permanent or transient."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any

import google.auth.exceptions
import requests
from google.auth.transport.requests import AuthorizedSession, Request, _Response
from google.oauth2.credentials import Credentials

from skytwin_desktop.connectors.failures import (
    ApiError,
    Cancelled,
    ConnectorFailure,
    Failure,
    token_failure,
)

log = logging.getLogger(__name__)
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 20.0




class TimedRequest(Request):
    """google-auth's transport with a time-out on token requests and the last token status kept,
    since a RefreshError carries Google's JSON but not the HTTP status we fall back on."""

    def __init__(self, timeout: tuple[float, float] = (CONNECT_TIMEOUT, READ_TIMEOUT)) -> None:
        super().__init__(session=requests.Session())
        self.timeout = timeout
        self.last_status: int | None = None

    def __call__(self, url: str, method: str = "GET", body: bytes | None = None,
                 headers: Mapping[str, str] | None = None, timeout: float | tuple[float, float] | None = None,
                 **kwargs: Any) -> _Response:
        self.last_status = None
        response: _Response = super().__call__(  # type: ignore[no-untyped-call]  # google-auth's has no annotations
            url, method=method, body=body, headers=headers, timeout=timeout or self.timeout, **kwargs)
        self.last_status = response.status
        return response

    def close(self) -> None:
        self.session.close()


class GoogleHttp:
    """One connector's authorised session. The access token lives here, in memory only."""

    def __init__(self, credentials: Credentials, stop: threading.Event | None = None) -> None:
        self.credentials = credentials
        self._stop = stop
        self._auth_request = TimedRequest()
        self._session = AuthorizedSession(credentials, auth_request=self._auth_request)

    def close(self) -> None:
        self._session.close()
        self._auth_request.close()

    def call(self, method: str, url: str, *, params: Any = None, json_body: Any = None) -> dict[str, Any]:
        if self._stop is not None and self._stop.is_set():
            raise Cancelled("the app is quitting")
        self._auth_request.last_status = None
        try:
            response = self._session.request(method, url, params=params, json=json_body,
                                             timeout=(CONNECT_TIMEOUT, READ_TIMEOUT))
        except google.auth.exceptions.RefreshError as exc:
            body = exc.args[1] if len(exc.args) > 1 else exc.args[0] if exc.args else None
            failure = token_failure(self._auth_request.last_status, body)
            raise ConnectorFailure(failure, f"token refresh failed ({failure.error_code})") from None
        except google.auth.exceptions.TransportError as exc:
            if _caused_by(exc, requests.Timeout):
                raise ConnectorFailure(Failure(False, "timeout"), "Google's token service did not answer in time") \
                    from None
            raise ConnectorFailure(Failure(False, "network_error"), "could not reach Google's token service") from None
        except requests.Timeout:
            raise ConnectorFailure(Failure(False, "timeout"), "Google did not answer in time") from None
        except requests.RequestException:
            raise ConnectorFailure(Failure(False, "network_error"), "could not reach Google") from None
        except (ValueError, TypeError, KeyError, AttributeError):
            # google-auth reads the token answer itself; a truncated or odd one surfaces as these.
            raise ConnectorFailure(Failure(False, "malformed_response"),
                                   "Google's token answer had an unexpected shape") from None
        if response.status_code >= 400:
            raise ApiError(response.status_code, _json_or_text(response),
                           after_refresh=self._auth_request.last_status == 200)
        try:
            data = response.json() if response.content else {}
        except ValueError:
            raise ConnectorFailure(Failure(False, "malformed_response"), "Google's answer was not JSON") from None
        if not isinstance(data, dict):
            raise ConnectorFailure(Failure(False, "malformed_response"), "Google's answer was not an object")
        return data


def _json_or_text(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text[:200]


def _caused_by(exc: BaseException | None, kind: type[BaseException]) -> bool:
    """Whether `kind` is among what `exc` wraps (google-auth wraps the transport's own errors)."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, kind):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__ or next((arg for arg in exc.args if isinstance(arg, BaseException)),
                                                       None)
    return False
