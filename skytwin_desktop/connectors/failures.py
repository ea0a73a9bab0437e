"""Telling a permanent failure (the person must reconnect) from a transient one (try again later).

Pure: an HTTP status and a response body in, a verdict out. Getting this wrong either way hurts:
calling a blip "revoked" nags the person for nothing, and calling a revocation "a blip" is the
silent breakage this app exists to prevent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

PERMANENT_TOKEN_ERRORS = frozenset({"invalid_grant", "unauthorized_client", "invalid_client"})
PERMANENT_TOKEN_STATUSES = frozenset({400, 401, 403})


@dataclass(frozen=True, slots=True)
class Failure:
    permanent: bool
    error_code: str
    """Google's own `error` where it gave one (invalid_grant…), else a code of ours."""


class Cancelled(Exception):
    """The app is quitting: no further request is started (not a failure of the connector)."""


class ConnectorFailure(Exception):
    """A poll or a call failed; `failure` says whether the person must act."""

    def __init__(self, failure: Failure, detail: str = "") -> None:
        super().__init__(detail or failure.error_code)
        self.failure = failure


class ApiError(Exception):
    """An HTTP error answer from a Google API, kept whole so callers can handle 404/410 themselves."""

    def __init__(self, status: int, body: Any, *, after_refresh: bool = False) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.body = body
        self.after_refresh = after_refresh
        """A token refresh succeeded during this request and Google still answered this."""

    def as_failure(self) -> ConnectorFailure:
        return ConnectorFailure(api_failure(self.status, self.body, after_refresh=self.after_refresh),
                                f"Google answered HTTP {self.status}")


def _parse(body: Any) -> Any:
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if isinstance(body, str):
        try:
            return json.loads(body)
        except ValueError:
            return None
    return body


def token_failure(status: int | None, body: Any) -> Failure:
    """A failed token refresh. Google's JSON `error` decides; the HTTP status is the fallback."""
    data = _parse(body)
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, str) and error:
        if error in PERMANENT_TOKEN_ERRORS:
            return Failure(True, error)
        if status in PERMANENT_TOKEN_STATUSES and error not in ("temporarily_unavailable", "server_error"):
            return Failure(True, error)
        return Failure(False, error)
    if status in PERMANENT_TOKEN_STATUSES:
        return Failure(True, f"http_{status}")
    if status is None:
        return Failure(False, "network_error")
    return Failure(False, f"http_{status}")


def api_failure(status: int, body: Any, *, after_refresh: bool = False) -> Failure:
    """A failed Gmail or Calendar call. google-auth refreshes the token and retries on a 401; only
    a refused refresh (see `token_failure`) means the person must sign in again, so a 401 that
    persists while refreshes succeed (`after_refresh`) is Google's passing trouble."""
    data = _parse(body)
    reasons: set[str] = set()
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        for item in data["error"].get("errors") or ():
            if isinstance(item, dict) and isinstance(item.get("reason"), str):
                reasons.add(item["reason"])
    if status == 401:
        return Failure(False, "fresh_token_refused") if after_refresh else Failure(True, "invalid_credentials")
    if status == 403 and reasons & {"insufficientPermissions", "ACCESS_TOKEN_SCOPE_INSUFFICIENT"}:
        return Failure(True, "insufficient_scope")
    if status == 403 and reasons & {"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded"}:
        return Failure(False, "rate_limited")
    if status == 429:
        return Failure(False, "rate_limited")
    return Failure(False, f"http_{status}")
