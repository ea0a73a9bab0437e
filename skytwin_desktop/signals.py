"""What a poll brings back: typed, plain data the proposers read (no HTTP shapes leak past here)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from skytwin_desktop.domain import Connector


@dataclass(frozen=True, slots=True)
class EmailSignal:
    message_id: str
    thread_id: str
    sender: str
    """The From address, lower-case."""
    sender_name: str
    subject: str
    snippet: str
    labels: tuple[str, ...]
    received_at: datetime | None
    to: tuple[str, ...] = ()
    list_unsubscribe: str | None = None
    list_id: str | None = None
    auto_submitted: str | None = None
    precedence: str | None = None
    connector: Connector = field(default=Connector.GMAIL, init=False)

    @property
    def signal_id(self) -> str:
        return self.message_id

    @property
    def sender_domain(self) -> str:
        return self.sender.rpartition("@")[2]


@dataclass(frozen=True, slots=True)
class Attendee:
    email: str
    response_status: str
    is_self: bool = False
    organizer: bool = False


@dataclass(frozen=True, slots=True)
class EventSignal:
    event_id: str
    summary: str
    status: str
    """confirmed, tentative or cancelled."""
    organizer: str
    start: datetime | None
    end: datetime | None
    attendees: tuple[Attendee, ...]
    self_response: str | None
    """The person's own responseStatus: needsAction, accepted, tentative, declined (None: not invited)."""
    conflicts: tuple[str, ...] = ()
    """Ids of the person's other events that overlap this one."""
    connector: Connector = field(default=Connector.CALENDAR, init=False)

    @property
    def signal_id(self) -> str:
        return self.event_id

    @property
    def is_invite(self) -> bool:
        return self.self_response == "needsAction" and self.status != "cancelled"


Signal = EmailSignal | EventSignal


@dataclass(frozen=True)
class SetAside:
    """An item that could not be handled, with its reason in words; kept, shown, tried again later."""

    connector: Connector
    item_id: str
    reason: str
    subject: str = ""
    sender: str = ""
    payload: dict[str, Any] = field(default_factory=dict)


KEPT_PAYLOAD = 64_000
"""At most this many characters of an item set aside are kept for a later try."""


def kept_payload(data: Any) -> dict[str, Any]:
    """What is kept of an item set aside: the item itself, unless it is huge or not an object."""
    text = json.dumps(data, default=str)
    return data if isinstance(data, dict) and len(text) <= KEPT_PAYLOAD else {"truncated": text[:KEPT_PAYLOAD]}


@dataclass(frozen=True)
class PollResult:
    """One poll of one connector: its new signals and where the next poll resumes."""

    signals: Sequence[Signal]
    cursor: str
    account: str | None = None
    """The Google account, when the poll learned it (a first sync)."""
    bootstrapped: bool = False
    set_aside: list[SetAside] = field(default_factory=list)
    """Items of this poll that could not be read; everything else came through."""


def signal_to_json(signal: Signal) -> dict[str, Any]:
    data = asdict(signal)
    data.pop("connector", None)
    for key, value in list(data.items()):
        if isinstance(value, datetime):
            data[key] = value.isoformat()
    return data


def signal_from_json(connector: Connector, data: dict[str, Any]) -> Signal:
    data = dict(data)
    if Connector(connector) is Connector.GMAIL:
        data["received_at"] = datetime.fromisoformat(data["received_at"]) if data.get("received_at") else None
        data["labels"], data["to"] = tuple(data["labels"]), tuple(data.get("to") or ())
        return EmailSignal(**data)
    for key in ("start", "end"):
        data[key] = datetime.fromisoformat(data[key]) if data.get(key) else None
    data["attendees"] = tuple(Attendee(**a) for a in data["attendees"])
    data["conflicts"] = tuple(data.get("conflicts") or ())
    return EventSignal(**data)
