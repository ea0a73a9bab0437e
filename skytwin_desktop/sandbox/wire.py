"""Responses and Google's error bodies, built in one place so every sandbox endpoint answers the
way the real service does (same JSON shapes, same content type, same headers)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape
from http import HTTPStatus
from typing import Any

JSON_TYPE = "application/json; charset=UTF-8"
HTML_TYPE = "text/html; charset=utf-8"
BEARER_REALM = 'Bearer realm="https://accounts.google.com/"'

Query = dict[str, list[str]]
"""A parsed query string or form body: every value kept, in order (`urllib.parse.parse_qs`)."""

STATUS_NAMES = {
    400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
    409: "ABORTED", 410: "GONE", 412: "FAILED_PRECONDITION", 429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL", 501: "UNIMPLEMENTED", 502: "UNAVAILABLE", 503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED",
}


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str | None = JSON_TYPE
    headers: dict[str, str] = field(default_factory=dict)


class ApiError(Exception):
    """Raised anywhere inside an endpoint; the server sends `response` as is."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


@dataclass
class Route:
    """An API endpoint found for a request: what to call, its RPC name (for 403 details), and
    whether it writes (which decides the OAuth scopes it needs)."""

    call: Callable[[Query, bytes], Response]
    rpc: str
    write: bool = False


def json_response(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    text = json.dumps(payload, indent=2, ensure_ascii=False)
    try:
        body = text.encode("utf-8") + b"\n"
    except UnicodeEncodeError:  # a lone surrogate in a header: JSON carries it as a \ud800 escape
        body = json.dumps(payload, indent=2).encode("ascii") + b"\n"
    return Response(status, body, JSON_TYPE, dict(headers or {}))


def html_page(status: int, title: str, text: str) -> Response:
    """The HTML error page a browser sees at accounts.google.com (never JSON there)."""
    body = (f"<!DOCTYPE html><html lang=en><meta charset=utf-8><title>{escape(title)}</title>"
            f"<h1>{escape(title)}</h1><p>{escape(text)}</p></html>\n")
    return Response(status, body.encode("utf-8"), HTML_TYPE)


def google_error(code: int, message: str, reason: str, *, status: str | None = None,
                 location: str | None = None, location_type: str | None = None,
                 details: list[dict[str, Any]] | None = None, with_status: bool = True,
                 item_message: str | None = None) -> dict[str, Any]:
    """The body Google APIs send on failure: {"error": {"code", "message", "errors": [...], "status"}}.
    `item_message` is the legacy per-error message when Google words it differently (401, 403)."""
    item: dict[str, Any] = {"message": item_message or message, "domain": "global", "reason": reason}
    if location:
        item["location"] = location
        item["locationType"] = location_type or "parameter"
    error: dict[str, Any] = {"code": code, "message": message, "errors": [item]}
    if with_status:
        error["status"] = status or STATUS_NAMES.get(code, "UNKNOWN")
    if details:
        error["details"] = details
    return {"error": error}


def api_error(code: int, message: str, reason: str, **kwargs: Any) -> ApiError:
    headers = kwargs.pop("headers", None)
    return ApiError(json_response(google_error(code, message, reason, **kwargs), code, headers))


def oauth_error(status: int, error: str, description: str) -> ApiError:
    """The token/revoke endpoints' flat body: {"error": "...", "error_description": "..."}."""
    return ApiError(json_response({"error": error, "error_description": description}, status))


def not_found(with_status: bool = True) -> ApiError:
    return api_error(404, "Requested entity was not found.", "notFound", with_status=with_status)


def default_fault_body(status: int) -> dict[str, Any]:
    """What Google's front end says for an injected status when the test gave no body."""
    known = {
        429: ("Resource has been exhausted (e.g. check quota).", "rateLimitExceeded"),
        500: ("Internal error encountered.", "backendError"),
        502: ("The service is currently unavailable.", "backendError"),
        503: ("The service is currently unavailable.", "backendError"),
        504: ("The request timed out. Please try again.", "backendError"),
    }
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    message, reason = known.get(status, (phrase, phrase[:1].lower() + phrase.title().replace(" ", "")[1:]))
    return google_error(status, message, reason)


def first(query: Query, name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


def truthy(query: Query, name: str) -> bool:
    return (first(query, name) or "").lower() == "true"


def rfc3339(moment: datetime, millis: bool = False) -> str:
    """UTC timestamps the way Google writes them: 2026-03-14T09:30:00Z (or .000Z with millis)."""
    moment = moment.astimezone(UTC)
    if millis:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def json_object(body: bytes) -> dict[str, Any]:
    """A request's JSON object body, or Google's 400 for anything else."""
    if not body.strip():
        return {}
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise api_error(400, "Invalid JSON payload received. Unexpected token.", "parseError") from None
    if not isinstance(value, dict):
        raise api_error(400, "Invalid JSON payload received. Expected an object.", "parseError")
    return value
