"""Reading Google Calendar: the next 7 days of single events, then changes by sync token.

An event of an odd shape is set aside with its reason while the rest of the poll goes on; a
listing longer than one poll reads is resumed where it stopped at the next poll; the clash check
never asks for an empty time range (Google refuses one)."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from skytwin_desktop.connectors.failures import ApiError, ConnectorFailure, Failure
from skytwin_desktop.domain import Connector
from skytwin_desktop.signals import (
    Attendee,
    EventSignal,
    PollResult,
    SetAside,
    kept_payload,
)
from skytwin_desktop.text import storable

if TYPE_CHECKING:
    from skytwin_desktop.connectors.http import GoogleHttp

log = logging.getLogger(__name__)
WINDOW = timedelta(days=7)
PAGE_CAP = 20
"""Pages per poll; a longer listing is resumed at the next poll."""
SHORTEST_RANGE = timedelta(minutes=1)
"""Google refuses an empty range: the clash check of an instant event asks for at least this."""


def _rfc3339(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


class _Listing:
    """One listing, perhaps spread over several polls: its query, and the page to go on from."""

    def __init__(self, params: dict[str, str], page: str | None = None, *, first_sync: bool) -> None:
        self.params, self.page, self.first_sync = params, page, first_sync

    def cursor(self) -> str:
        return json.dumps({"params": self.params, "page": self.page, "first_sync": self.first_sync})

    @classmethod
    def parse(cls, cursor: str) -> _Listing | None:
        """A listing stopped part-way ({"params", "page", …}); None for a plain sync token."""
        if not cursor.startswith("{"):
            return None
        try:
            data = json.loads(cursor)
            params = {str(k): str(v) for k, v in data["params"].items()}
            return cls(params, str(data["page"]), first_sync=bool(data.get("first_sync")))
        except (ValueError, KeyError, TypeError, AttributeError):
            log.warning("An unreadable Calendar cursor; syncing the coming week again")
            return None


class CalendarReader:
    def __init__(self, http: GoogleHttp, base: str) -> None:
        self.http = http
        self.events_url = f"{base}/calendars/primary/events"

    def poll(self, cursor: str | None, now: datetime) -> PollResult:
        listing = _Listing.parse(cursor) if cursor else None
        if listing is None and cursor and not cursor.startswith("{"):
            listing = _Listing({"syncToken": cursor, "showDeleted": "true"}, first_sync=False)
        if listing is not None:
            try:
                return self._poll(listing, now)
            except ApiError as exc:
                if exc.status != 410:
                    raise exc.as_failure() from None
                log.info("Calendar sync token expired; one full resync")
        try:
            return self._poll(_Listing(self._window(now, now + WINDOW), first_sync=True), now)
        except ApiError as exc:
            raise exc.as_failure() from None

    def _poll(self, listing: _Listing, now: datetime) -> PollResult:
        resumed = listing.page is not None
        items, token, summary = self._list(listing)
        set_aside: list[SetAside] = []
        whole_window = listing.first_sync and not resumed and token is not None  # clashes are all in `items`
        signals = self._signals(items, now, set_aside, whole_window=whole_window)
        if token is None:  # more than one poll reads: the next poll goes on from here
            return PollResult(signals, listing.cursor(), summary, bootstrapped=listing.first_sync,
                              set_aside=set_aside)
        return PollResult(signals, token, summary, bootstrapped=listing.first_sync, set_aside=set_aside)

    def reread(self, items: list[tuple[str, dict[str, Any]]],
               now: datetime) -> tuple[list[EventSignal], list[SetAside]]:
        """Events set aside by an older SkyTwin, read again from what was kept (an invite's clashes
        are asked of Google afresh)."""
        set_aside: list[SetAside] = []
        signals = self._signals([payload for _, payload in items], now, set_aside, whole_window=False)
        return signals, set_aside

    def account(self, now: datetime) -> str | None:
        try:
            # Google refuses an empty range, so ask for one minute; only the calendar's name matters.
            page = self.http.call("GET", self.events_url,
                                  params={**self._window(now, now + SHORTEST_RANGE), "maxResults": 1})
        except ApiError as exc:
            raise exc.as_failure() from None
        summary = page.get("summary")
        return summary if isinstance(summary, str) else None

    @staticmethod
    def _window(start: datetime, end: datetime) -> dict[str, str]:
        end = max(end, start + SHORTEST_RANGE)
        return {"timeMin": _rfc3339(start), "timeMax": _rfc3339(end), "singleEvents": "true", "orderBy": "startTime"}

    def _list(self, listing: _Listing) -> tuple[list[Any], str | None, str | None]:
        """Up to PAGE_CAP pages: (items, the sync token at the end or None when stopped part-way,
        the calendar's name). `listing.page` moves on as pages are read."""
        items: list[Any] = []
        for _ in range(PAGE_CAP):
            query = dict(listing.params, **({"pageToken": listing.page} if listing.page else {}))
            page = self.http.call("GET", self.events_url, params=query)
            found = page.get("items", [])
            if not isinstance(found, list):
                raise ConnectorFailure(Failure(False, "malformed_response"), "Calendar's event list was not a list")
            items.extend(found)
            next_page = page.get("nextPageToken")
            summary = page.get("summary") if isinstance(page.get("summary"), str) else None
            if not next_page:
                token = page.get("nextSyncToken")
                if not isinstance(token, str) or not token:
                    raise ConnectorFailure(Failure(False, "malformed_response"), "Calendar gave no sync token")
                return items, token, summary
            listing.page = str(next_page)
        return items, None, None

    def _signals(self, items: list[Any], now: datetime, set_aside: list[SetAside],
                 whole_window: bool) -> list[EventSignal]:
        signals = []
        for item in items:
            found = read_event(item)
            if isinstance(found, SetAside):
                set_aside.append(found)
            else:
                signals.append(found)
        known = signals if whole_window else None
        result = []
        for signal in signals:
            if signal.is_invite and signal.start and signal.end:
                others = known if known is not None else self._around(signal, set_aside)
                signal = _with_conflicts(signal, others)
            result.append(signal)
        return result

    def _around(self, signal: EventSignal, set_aside: list[SetAside]) -> list[EventSignal]:
        """The person's events overlapping an invite that arrived by sync token."""
        assert signal.start and signal.end
        listing = _Listing(self._window(signal.start, signal.end), first_sync=False)
        try:
            items, _, _ = self._list(listing)
        except ApiError as exc:
            raise exc.as_failure() from None
        return [found for found in (read_event(item) for item in items) if isinstance(found, EventSignal)]


def read_event(item: Any) -> EventSignal | SetAside:
    """The event as a signal, or set aside (by its title and organiser where they can be told)."""
    try:
        return event_signal(item)
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
        data = item if isinstance(item, dict) else {}
        organizer = data.get("organizer")
        sender = organizer.get("email") if isinstance(organizer, dict) else None
        given = data.get("id")
        event_id = given if isinstance(given, str) else f"event:{repr(item)[:40]}"
        summary = data.get("summary")
        return SetAside(Connector.CALENDAR, event_id, f"the event could not be read ({type(exc).__name__})",
                        subject=storable(summary)[:300] if isinstance(summary, str) else "",
                        sender=storable(sender).lower() if isinstance(sender, str) else "",
                        payload=kept_payload(item))


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


def _when(value: Any) -> datetime | None:
    if not value:
        return None
    if not isinstance(value, dict):
        raise TypeError("a start or end is not an object")
    if "dateTime" in value:
        return datetime.fromisoformat(str(value["dateTime"]).replace("Z", "+00:00"))
    return None  # all-day events: no clock time to clash with


def _object(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TypeError("expected an object")
    return value


def event_signal(item: Any) -> EventSignal:
    item = _object(item)
    raw_attendees = item.get("attendees", [])
    if not isinstance(raw_attendees, list):
        raise TypeError("attendees is not a list")
    attendees = tuple(
        Attendee(email=storable(str(a.get("email", ""))).lower(),
                 response_status=str(a.get("responseStatus", "needsAction")),
                 is_self=bool(a.get("self")), organizer=bool(a.get("organizer")))
        for a in map(_object, raw_attendees)
    )
    own = next((a.response_status for a in attendees if a.is_self), None)
    if not isinstance(item["id"], str):
        raise TypeError("the event id is not text")
    return EventSignal(
        event_id=item["id"],
        summary=storable(str(item.get("summary", ""))),
        status=str(item.get("status", "confirmed")),
        organizer=storable(str(_object(item.get("organizer", {})).get("email", ""))).lower(),
        start=_when(item.get("start")),
        end=_when(item.get("end")),
        attendees=attendees,
        self_response=own,
    )
