"""Google Calendar API v3 events (list with windows, paging and sync tokens; get; patch; delete)
over one in-memory primary calendar, so full and incremental sync, and a 410 full-resync, can be
exercised against real client code.

Not thread-safe on its own: the sandbox calls it while holding its one lock.
"""

from __future__ import annotations

import base64
import copy
import json
import secrets
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from typing import Any

from skytwin_desktop.sandbox.wire import (
    ApiError,
    Query,
    Response,
    Route,
    api_error,
    first,
    json_object,
    json_response,
    rfc3339,
    truthy,
)

READ_SCOPES = ("https://www.googleapis.com/auth/calendar", "https://www.googleapis.com/auth/calendar.readonly",
               "https://www.googleapis.com/auth/calendar.events",
               "https://www.googleapis.com/auth/calendar.events.readonly")
WRITE_SCOPES = ("https://www.googleapis.com/auth/calendar", "https://www.googleapis.com/auth/calendar.events")
SYNC_EXCLUSIVE = ("timeMin", "timeMax", "orderBy", "q", "iCalUID", "updatedMin", "privateExtendedProperty",
                  "sharedExtendedProperty")
RESPONSES = frozenset({"needsAction", "declined", "tentative", "accepted"})
READ_ONLY = frozenset({"kind", "etag", "id", "htmlLink", "created", "updated", "creator", "iCalUID"})
MAJOR_FIELDS = ("start", "end", "summary", "location", "description")
FULL_SYNC = "Sync token is no longer valid, a full sync is required."
_BASE32HEX = "0123456789abcdefghijklmnopqrstuv"


def _error(code: int, message: str, reason: str, **kwargs: Any) -> ApiError:
    """Calendar still answers most errors in the older shape, without "status"."""
    return api_error(code, message, reason, with_status=False, **kwargs)


class CalendarStore:
    """The account's primary calendar and its change log (one sequence number per change)."""

    def __init__(self, account: str, now: Callable[[], datetime]) -> None:
        self.account = account
        self.now = now
        self.events: dict[str, dict[str, Any]] = {}
        self.changed: dict[str, int] = {}
        self.seq = 0
        self.tokens: dict[str, int] = {}
        """Sync tokens handed out and still valid, each with the change number it covers up to."""

    # ---- changes made by the sandbox owner ----------------------------------------------------
    def add_event(self, spec: dict[str, Any]) -> str:
        """Create an event, or (given the id of one) change it the way a patch would."""
        event_id: str | None = spec.get("id")
        if event_id is not None and event_id in self.events:
            self._apply(event_id, {k: _when(v) if k in ("start", "end") else v for k, v in spec.items()})
            return event_id
        event_id = event_id or "".join(secrets.choice(_BASE32HEX) for _ in range(26))
        now = self.now()
        organizer = dict(spec.get("organizer") or {"email": self.account})
        organizer.pop("self", None)
        if organizer["email"].lower() == self.account:
            organizer["self"] = True
        creator = spec.get("creator") or {k: v for k, v in organizer.items() if k != "displayName"}
        eid = base64.urlsafe_b64encode(f"{event_id} {self.account}".encode()).decode().rstrip("=")
        event: dict[str, Any] = {
            "kind": "calendar#event", "etag": "", "id": event_id, "status": spec.get("status", "confirmed"),
            "htmlLink": f"https://www.google.com/calendar/event?eid={eid}",
            "created": rfc3339(spec.get("created") or now, millis=True), "updated": rfc3339(now, millis=True),
            "summary": spec.get("summary", "(No title)"),
        }
        for key in ("description", "location"):
            if spec.get(key):
                event[key] = spec[key]
        event.update({"creator": creator, "organizer": organizer, "start": _when(spec["start"]),
                      "end": _when(spec["end"]), "iCalUID": f"{event_id}@google.com", "sequence": 0})
        if spec.get("attendees"):
            event["attendees"] = spec["attendees"]
        event.update({"reminders": {"useDefault": True}, "eventType": "default"})
        self.events[event_id] = self._normalise(event)
        self._record(event_id)
        return event_id

    def event(self, event_id: str) -> dict[str, Any]:
        return copy.deepcopy(self.events[event_id])

    def expire_sync_tokens(self) -> None:
        self.tokens.clear()

    def _record(self, event_id: str) -> None:
        self.seq += 1
        moment = self.now()
        self.changed[event_id] = self.seq
        event = self.events[event_id]
        event["updated"] = rfc3339(moment, millis=True)
        event["etag"] = f'"{int(moment.timestamp() * 1000) * 1000 + self.seq % 1000}"'

    def _apply(self, event_id: str, change: dict[str, Any]) -> dict[str, Any]:
        event = self.events[event_id]
        change = {k: v for k, v in change.items() if k not in READ_ONLY}
        major = any(k in change and change[k] != event.get(k) for k in MAJOR_FIELDS)
        merged = self._normalise(_merge(event, change))
        if major and merged["organizer"].get("self"):
            merged["sequence"] = int(merged.get("sequence", 0)) + 1
        self.events[event_id] = merged
        self._record(event_id)
        return merged

    def _normalise(self, event: dict[str, Any]) -> dict[str, Any]:
        """Google recomputes the attendee flags: `organizer` and `self` are never taken from input."""
        if "attendees" not in event:
            return event
        organizer = event["organizer"]["email"].lower()
        attendees = []
        for given in event["attendees"]:
            if not isinstance(given, dict) or not given.get("email"):
                raise _error(400, "Missing attendee email.", "required")
            status = given.get("responseStatus", "needsAction")
            if status not in RESPONSES:
                raise _error(400, "Invalid attendee response status.", "invalid")
            entry = {k: v for k, v in given.items() if k not in ("organizer", "self", "responseStatus")}
            if entry["email"].lower() == organizer:
                entry["organizer"] = True
            if entry["email"].lower() == self.account:
                entry["self"] = True
            entry["responseStatus"] = status
            attendees.append(entry)
        event["attendees"] = attendees
        return event

    # ---- HTTP ---------------------------------------------------------------------------------
    def route(self, method: str, calendar_id: str, parts: list[str]) -> Route:
        """Find the endpoint for /calendar/v3/calendars/{calendar_id}/{parts...}."""
        found = self._endpoint(method, parts)
        if found is None or (calendar_id != "primary" and calendar_id.lower() != self.account):
            raise _error(404, "Not Found", "notFound")
        call, rpc, write = found
        return Route(call, f"calendar.v3.Events.{rpc}", write)

    def _endpoint(self, method: str, parts: list[str]) -> tuple[Callable[[Query, bytes], Response], str, bool] | None:
        match (method, parts):
            case ("GET", ["events"]):
                return (lambda q, b: self._list(q)), "List", False
            case ("GET", ["events", event_id]):
                return (lambda q, b: json_response(self._existing(event_id))), "Get", False
            case ("PATCH", ["events", event_id]):
                return (lambda q, b: self._patch(event_id, q, b)), "Patch", True
            case ("DELETE", ["events", event_id]):
                return (lambda q, b: self._delete(event_id, q)), "Delete", True
        return None

    def _existing(self, event_id: str) -> dict[str, Any]:
        if event_id not in self.events:
            raise _error(404, "Not Found", "notFound")
        return self.events[event_id]

    def _list(self, query: Query) -> Response:
        limit = _max_results(query)
        offset, snapshot = self._page(query)
        sync_token = first(query, "syncToken")
        if sync_token:
            clash = next((name for name in SYNC_EXCLUSIVE if name in query), None)
            if clash:
                raise _error(400, f"Sync token cannot be used together with {clash}.", "invalid",
                             location=clash)
            since = self.tokens.get(sync_token)
            if since is None:
                raise api_error(410, FULL_SYNC, "fullSyncRequired")
            ids = sorted((i for i, n in self.changed.items() if since < n <= snapshot), key=self.changed.__getitem__)
            items = [self.events[i] for i in ids]
        else:
            items = self._window(query)
        page = items[offset:offset + limit]
        out: dict[str, Any] = {
            "kind": "calendar#events", "etag": f'"p3{snapshot:014d}"', "summary": self.account, "description": "",
            "updated": max((e["updated"] for e in self.events.values()), default=rfc3339(self.now(), millis=True)),
            "timeZone": "UTC", "accessRole": "owner", "defaultReminders": [{"method": "popup", "minutes": 10}],
        }
        if offset + limit < len(items):
            out["nextPageToken"] = _encode({"o": offset + limit, "s": snapshot})
        else:
            token = base64.b64encode(secrets.token_bytes(26)).decode("ascii")
            self.tokens[token] = snapshot
            out["nextSyncToken"] = token
        out["items"] = page
        return json_response(out)

    def _window(self, query: Query) -> list[dict[str, Any]]:
        low, high = _instant(query, "timeMin"), _instant(query, "timeMax")
        if low and high and high <= low:
            raise _error(400, "The specified time range is empty.", "timeRangeEmpty", location="timeMax")
        order = first(query, "orderBy")
        if order not in (None, "startTime", "updated"):
            raise _error(400, "Invalid value for: orderBy", "invalid", location="orderBy")
        if order == "startTime" and not truthy(query, "singleEvents"):
            raise _error(400, "The requested ordering is not available for the particular query.", "invalid",
                         location="orderBy")
        show_deleted = truthy(query, "showDeleted")
        found = [e for e in self.events.values()
                 if (show_deleted or e["status"] != "cancelled")
                 and (low is None or _start_or_end(e["end"]) > low)
                 and (high is None or _start_or_end(e["start"]) < high)]
        if order == "updated":
            return sorted(found, key=lambda e: self.changed[e["id"]])
        return sorted(found, key=lambda e: (_start_or_end(e["start"]), e["id"]))

    def _page(self, query: Query) -> tuple[int, int]:
        token = first(query, "pageToken")
        if not token:
            return 0, self.seq
        try:
            data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
            return int(data["o"]), int(data["s"])
        except (ValueError, KeyError, TypeError):
            raise _error(400, "Invalid Value", "invalid", location="pageToken") from None

    def _patch(self, event_id: str, query: Query, body: bytes) -> Response:
        _send_updates(query)
        self._existing(event_id)
        change = json_object(body)
        if "attendees" in change and not isinstance(change["attendees"], list):
            raise _error(400, "Invalid Value", "invalid")
        return json_response(self._apply(event_id, change))

    def _delete(self, event_id: str, query: Query) -> Response:
        _send_updates(query)
        if self._existing(event_id)["status"] == "cancelled":
            raise _error(410, "Resource has been deleted", "deleted")
        self._apply(event_id, {"status": "cancelled"})
        return Response(204, b"", None)


def _merge(base: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    """Patch semantics: objects merge field by field, everything else (arrays too) is replaced."""
    out = copy.deepcopy(base)
    for key, value in change.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _when(value: Any) -> dict[str, Any]:
    if isinstance(value, datetime):
        return {"dateTime": rfc3339(value), "timeZone": "UTC"}
    if isinstance(value, date):
        return {"date": value.isoformat()}
    return dict(value)


def _start_or_end(value: dict[str, Any]) -> datetime:
    if "dateTime" in value:
        return datetime.fromisoformat(value["dateTime"].replace("Z", "+00:00"))
    return datetime.combine(date.fromisoformat(value["date"]), time(), tzinfo=UTC)


def _instant(query: Query, name: str) -> datetime | None:
    raw = first(query, name)
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise _error(400, "Bad Request", "badRequest")
    return moment


def _max_results(query: Query) -> int:
    raw = first(query, "maxResults")
    if raw is None:
        return 250
    if not raw.isdigit() or int(raw) < 1:
        raise _error(400, "Invalid value '" + raw + "'. Values must be within the range: [1, 2500]", "invalid",
                     location="maxResults")
    return min(int(raw), 2500)


def _send_updates(query: Query) -> None:
    value = first(query, "sendUpdates")
    if value is not None and value not in ("all", "externalOnly", "none"):
        raise _error(400, f"Invalid value for: sendUpdates: {value}", "invalid", location="sendUpdates")


def _encode(data: dict[str, int]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode("ascii").rstrip("=")

