"""Reading Google Calendar: the next 7 days of single events, then changes by sync token."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from skytwin_desktop.connectors.failures import ConnectorFailure, Failure
from skytwin_desktop.connectors.http import ApiError, GoogleHttp
from skytwin_desktop.connectors.signals import Attendee, EventSignal, PollResult

log = logging.getLogger(__name__)
WINDOW = timedelta(days=7)
PAGE_CAP = 20


def _rfc3339(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


class CalendarReader:
    def __init__(self, http: GoogleHttp, base: str) -> None:
        self.http = http
        self.events_url = f"{base}/calendars/primary/events"

    def poll(self, cursor: str | None, now: datetime) -> PollResult:
        if cursor:
            try:
                items, token, _ = self._list({"syncToken": cursor, "showDeleted": "true"})
                return PollResult(self._signals(items, now, window=None), token)
            except ApiError as exc:
                if exc.status != 410:
                    raise exc.as_failure() from None
                log.info("Calendar sync token expired; one full resync")
        items, token, summary = self._list(self._window(now, now + WINDOW))
        return PollResult(self._signals(items, now, window=items), token, summary, bootstrapped=True)

    def account(self, now: datetime) -> str | None:
        try:
            # Google refuses an empty range, so ask for one minute; only the calendar's name matters.
            page = self.http.call("GET", self.events_url,
                                  params={**self._window(now, now + timedelta(minutes=1)), "maxResults": 1})
        except ApiError as exc:
            raise exc.as_failure() from None
        return page.get("summary")

    @staticmethod
    def _window(start: datetime, end: datetime) -> dict[str, str]:
        return {"timeMin": _rfc3339(start), "timeMax": _rfc3339(end), "singleEvents": "true", "orderBy": "startTime"}

    def _list(self, params: dict[str, str]) -> tuple[list[dict], str, str | None]:
        items: list[dict] = []
        page_token = None
        for _ in range(PAGE_CAP):
            query = dict(params, **({"pageToken": page_token} if page_token else {}))
            page = self.http.call("GET", self.events_url, params=query)
            items.extend(page.get("items", []))
            page_token = page.get("nextPageToken")
            if not page_token:
                token = page.get("nextSyncToken")
                if not token:
                    raise ConnectorFailure(Failure(False, "malformed_response"), "Calendar gave no sync token")
                return items, token, page.get("summary")
        raise ConnectorFailure(Failure(False, "too_many_pages"), "Calendar listing did not end")

    def _signals(self, items: list[dict], now: datetime, window: list[dict] | None) -> list[EventSignal]:
        try:
            signals = [event_signal(item) for item in items]
        except (KeyError, TypeError, ValueError):
            raise ConnectorFailure(Failure(False, "malformed_response"), "an event had an unexpected shape") from None
        known = [event_signal(item) for item in window] if window is not None else None
        result = []
        for signal in signals:
            if signal.is_invite and signal.start and signal.end:
                others = known if known is not None else self._around(signal)
                signal = _with_conflicts(signal, others)
            result.append(signal)
        return result

    def _around(self, signal: EventSignal) -> list[EventSignal]:
        """The person's events overlapping an invite that arrived by sync token."""
        assert signal.start and signal.end
        items, _, _ = self._list(self._window(signal.start, signal.end))
        return [event_signal(item) for item in items]


def _busy(event: EventSignal) -> bool:
    if event.status == "cancelled":
        return False
    return event.self_response in (None, "accepted", "tentative")


def _with_conflicts(invite: EventSignal, others: list[EventSignal]) -> EventSignal:
    assert invite.start and invite.end
    clashes = tuple(
        other.event_id for other in others
        if other.event_id != invite.event_id and _busy(other) and other.start and other.end
        and other.start < invite.end and invite.start < other.end
    )
    return EventSignal(invite.event_id, invite.summary, invite.status, invite.organizer, invite.start, invite.end,
                       invite.attendees, invite.self_response, clashes)


def _when(value: dict | None) -> datetime | None:
    if not value:
        return None
    if "dateTime" in value:
        return datetime.fromisoformat(value["dateTime"].replace("Z", "+00:00"))
    return None  # all-day events: no clock time to clash with


def event_signal(item: dict) -> EventSignal:
    attendees = tuple(
        Attendee(email=str(a.get("email", "")).lower(), response_status=a.get("responseStatus", "needsAction"),
                 is_self=bool(a.get("self")), organizer=bool(a.get("organizer")))
        for a in item.get("attendees", [])
    )
    own = next((a.response_status for a in attendees if a.is_self), None)
    return EventSignal(
        event_id=item["id"],
        summary=item.get("summary", ""),
        status=item.get("status", "confirmed"),
        organizer=str(item.get("organizer", {}).get("email", "")).lower(),
        start=_when(item.get("start")),
        end=_when(item.get("end")),
        attendees=attendees,
        self_response=own,
    )
