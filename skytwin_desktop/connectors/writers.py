"""Changing things at Google: Gmail labels and the person's own answer to an invitation.

Every method that changes remote data is `@connector_write`, so it runs only inside the
executor funnel. The read methods beside them answer "did that already happen?", which is how a
restart resolves an action that was recorded but may not have reached Google.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from skytwin_desktop.connectors.failures import ApiError, ConnectorFailure, Failure
from skytwin_desktop.guard import connector_write

if TYPE_CHECKING:
    from skytwin_desktop.connectors.http import GoogleHttp


class CannotApply(Exception):
    """This action cannot be carried out however often it is tried (the connector itself is fine)."""


class Gone(CannotApply):
    """The message or event no longer exists at Google: there is nothing to act on."""


def _call(http: GoogleHttp, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
    try:
        return http.call(method, url, **kwargs)
    except ApiError as exc:
        if exc.status in (404, 410):
            raise Gone(f"Google no longer has it (HTTP {exc.status})") from None
        raise exc.as_failure() from None


class GmailWriter:
    def __init__(self, http: GoogleHttp, base: str) -> None:
        self.http = http
        self.base = f"{base}/users/me"

    def message_labels(self, message_id: str) -> list[str]:
        data = _call(self.http, "GET", f"{self.base}/messages/{message_id}", params={"format": "minimal"})
        return list(data.get("labelIds", []))

    def label_id(self, name: str) -> str | None:
        """The id of the person's label with this name (case-insensitive), None when there is none."""
        data = _call(self.http, "GET", f"{self.base}/labels")
        wanted = name.strip().lower()
        for label in data.get("labels", []):
            if str(label.get("name", "")).lower() == wanted or label.get("id") == name:
                return str(label["id"])
        return None

    @connector_write
    def modify_message_labels(self, message_id: str, add: list[str], remove: list[str]) -> list[str]:
        data = _call(self.http, "POST", f"{self.base}/messages/{message_id}/modify",
                     json_body={"addLabelIds": add, "removeLabelIds": remove})
        return list(data.get("labelIds", []))


class CalendarWriter:
    def __init__(self, http: GoogleHttp, base: str) -> None:
        self.http = http
        self.events_url = f"{base}/calendars/primary/events"

    def own_response(self, event_id: str) -> str | None:
        event = _call(self.http, "GET", f"{self.events_url}/{event_id}")
        return next((a.get("responseStatus") for a in event.get("attendees", []) if a.get("self")), None)

    @connector_write
    def patch_own_response(self, event_id: str, response: str) -> str:
        """Change only the person's own attendee entry. Attendees are one array in a patch, so the
        others are sent back exactly as Google gave them."""
        event = _call(self.http, "GET", f"{self.events_url}/{event_id}")
        attendees = [dict(a) for a in event.get("attendees", [])]
        own = [a for a in attendees if a.get("self")]
        if not own:
            raise ConnectorFailure(Failure(False, "not_invited"), "you are not on this event's guest list")
        for attendee in own:
            attendee["responseStatus"] = response
        _call(self.http, "PATCH", f"{self.events_url}/{event_id}", params={"sendUpdates": "all"},
              json_body={"attendees": attendees})
        return response
