"""Reading Gmail: a first sync of recent mail, then the History API from the stored history id.

Gmail's answers are someone else's data: a message or history record of an odd shape is set
aside with its reason (the rest of the poll goes on), and a history longer than one poll reads
is resumed where it stopped at the next poll, never skipped."""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from email.utils import getaddresses
from typing import TYPE_CHECKING, Any

from skytwin_desktop.connectors.failures import ApiError, ConnectorFailure, Failure
from skytwin_desktop.domain import Connector
from skytwin_desktop.signals import EmailSignal, PollResult, SetAside, kept_payload
from skytwin_desktop.text import storable

if TYPE_CHECKING:
    from skytwin_desktop.connectors.http import GoogleHttp

log = logging.getLogger(__name__)
FIRST_SYNC_QUERIES = ("in:sent newer_than:7d", "is:unread newer_than:1d")
FIRST_SYNC_CAP = 100
"""At most this many messages per first-sync query: enough context, never the whole mailbox."""
HISTORY_PAGE_CAP = 20
"""History pages per poll; a longer history is resumed at the next poll."""
HEADERS = ("From", "To", "Subject", "Date", "List-Unsubscribe", "List-Id", "Reply-To", "Auto-Submitted",
           "Precedence")
ADDRESS_HEADER_LIMIT = 4_000
"""Longer address headers, or ones nested deeper than this, are read by a plain pattern instead of
the standard parser, whose recursion a hostile header can exhaust."""
ADDRESS_NESTING_LIMIT = 20
_ADDRESS = re.compile(r"[^\s<>()\[\],;:\"@]+@[^\s<>()\[\],;:\"@]+")


def _malformed(what: str) -> ConnectorFailure:
    return ConnectorFailure(Failure(False, "malformed_response"), f"Gmail's {what} had an unexpected shape")


class GmailReader:
    def __init__(self, http: GoogleHttp, base: str) -> None:
        self.http = http
        self.base = f"{base}/users/me"

    def account(self) -> str:
        return str(self._get("/profile")["emailAddress"]).lower()

    def poll(self, cursor: str | None) -> PollResult:
        if cursor:
            start, page_token = _parse_cursor(cursor)
            try:
                return self._since(start, page_token)
            except ApiError as exc:
                if exc.status != 404:
                    raise exc.as_failure() from None
                log.info("Gmail history id too old; syncing recent mail again")
        return self._first_sync()

    @staticmethod
    def reread(items: list[tuple[str, dict[str, Any]]]) -> tuple[list[EmailSignal], list[SetAside]]:
        """Messages set aside by an older SkyTwin, read again from what was kept (no request)."""
        found = [read_message(payload, item_id) for item_id, payload in items]
        return [f for f in found if isinstance(f, EmailSignal)], [f for f in found if isinstance(f, SetAside)]

    def _get(self, path: str, params: Any = None) -> dict[str, Any]:
        try:
            return self.http.call("GET", self.base + path, params=params)
        except ApiError as exc:
            raise exc.as_failure() from None

    def _first_sync(self) -> PollResult:
        profile = self._get("/profile")
        if not isinstance(profile.get("historyId"), str | int):
            raise _malformed("profile")
        ids: dict[str, None] = {}
        set_aside: list[SetAside] = []
        for query in FIRST_SYNC_QUERIES:
            listing = self._get("/messages", {"q": query, "maxResults": FIRST_SYNC_CAP})
            for item in _list(listing, "messages", "message list"):
                if isinstance(item, dict) and isinstance(item.get("id"), str):
                    ids.setdefault(item["id"])
                else:
                    set_aside.append(_odd_record(item, "a message list entry without a message id"))
        signals = self._messages(ids, set_aside)
        account = str(profile.get("emailAddress", "")).lower() or None
        return PollResult(signals, str(profile["historyId"]), account, bootstrapped=True, set_aside=set_aside)

    def _since(self, start: str, page_token: str | None) -> PollResult:
        added: dict[str, None] = {}
        set_aside: list[SetAside] = []
        newest = start
        for _ in range(HISTORY_PAGE_CAP):
            params = {"startHistoryId": start, "historyTypes": "messageAdded"}
            if page_token:
                params["pageToken"] = page_token
            page = self.http.call("GET", self.base + "/history", params=params)
            for record in _list(page, "history", "history"):
                self._added(record, added, set_aside)
            found = page.get("historyId", newest)
            if not isinstance(found, str | int) or isinstance(found, bool) or not str(found).isdigit():
                raise _malformed("history")
            newest = str(found)
            page_token = page.get("nextPageToken")
            if not isinstance(page_token, str) or not page_token:
                page_token = None
                break
        signals = self._messages(added, set_aside)
        if page_token:  # more history than one poll reads: the next poll goes on from here
            return PollResult(signals, json.dumps({"start": start, "page": page_token}), set_aside=set_aside)
        return PollResult(signals, newest, set_aside=set_aside)

    @staticmethod
    def _added(record: Any, added: dict[str, None], set_aside: list[SetAside]) -> None:
        if not isinstance(record, dict):
            set_aside.append(_odd_record(record, "a history record of an unexpected shape"))
            return
        items = record.get("messagesAdded", [])
        if not isinstance(items, list):
            set_aside.append(_odd_record(record, "a history record whose added messages are not a list"))
            return
        for item in items:
            message = item.get("message") if isinstance(item, dict) else None
            if isinstance(message, dict) and isinstance(message.get("id"), str):
                added.setdefault(message["id"])
            else:
                set_aside.append(_odd_record(record, "a history record with an added message without an id"))

    def _messages(self, ids: dict[str, None], set_aside: list[SetAside]) -> list[EmailSignal]:
        signals = []
        for message_id in ids:
            found = self._message(message_id)
            if isinstance(found, SetAside):
                set_aside.append(found)
            elif found is not None:
                signals.append(found)
        return signals

    def _message(self, message_id: str) -> EmailSignal | SetAside | None:
        try:
            data = self.http.call("GET", f"{self.base}/messages/{message_id}",
                                  params=[("format", "metadata"), *[("metadataHeaders", h) for h in HEADERS]])
        except ApiError as exc:
            if exc.status == 404:  # deleted between listing and reading: nothing to do
                return None
            raise exc.as_failure() from None
        return read_message(data, message_id)


def read_message(data: dict[str, Any], message_id: str) -> EmailSignal | SetAside:
    """The message as a signal, or set aside (with its subject and sender where they can be told)."""
    try:
        return email_signal(data)
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError, RecursionError) as exc:
        headers = _loose_headers(data)
        return SetAside(Connector.GMAIL, message_id, f"the message could not be read ({type(exc).__name__})",
                        subject=headers.get("subject", ""), sender=sender_address(headers.get("from", "")),
                        payload=kept_payload(data))


def _parse_cursor(cursor: str) -> tuple[str, str | None]:
    """A history id, or where a long history stopped: {"start": id, "page": token}."""
    if cursor.startswith("{"):
        try:
            data = json.loads(cursor)
            return str(data["start"]), str(data["page"])
        except (ValueError, KeyError, TypeError):
            log.warning("An unreadable Gmail cursor; syncing recent mail again")
            return "0", None
    return cursor, None


def _list(page: dict[str, Any], key: str, what: str) -> list[Any]:
    value = page.get(key, [])
    if not isinstance(value, list):
        raise _malformed(what)
    return value


def _odd_record(record: Any, reason: str) -> SetAside:
    record_id = record.get("id") if isinstance(record, dict) else None
    return SetAside(Connector.GMAIL, f"history:{record_id or repr(record)[:40]}", f"Gmail sent {reason}",
                    payload=kept_payload(record))


def _loose_headers(data: Any) -> dict[str, str]:
    """Whatever headers can be read from an item of an odd shape, for telling the person which it is."""
    payload = data.get("payload") if isinstance(data, dict) else None
    headers = payload.get("headers") if isinstance(payload, dict) else None
    found: dict[str, str] = {}
    for header in headers if isinstance(headers, list) else ():
        if isinstance(header, dict) and isinstance(header.get("name"), str) and isinstance(header.get("value"), str):
            found.setdefault(header["name"].lower(), storable(header["value"])[:300])
    return found


def _strings(value: Any, what: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise TypeError(f"{what} is not a list of strings")
    return tuple(value)


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("a text field is not text")
    return storable(value)


def sender(header: str) -> tuple[str, str]:
    """(display name, address lower-case) of a From header. A header naming more than one address
    (or none) is ambiguous: it gives no address, so it matches none of the person's rules (label,
    allowed domains, trusted contacts), and its text as the name, to be shown. Bounded for hostile
    headers, which are read for address-like text only."""
    if not _too_tangled(header):
        try:
            found = [(name, address) for name, address in getaddresses([header]) if address]
            if len(found) == 1 and _is_address(found[0][1]):
                return found[0][0], found[0][1].lower()
            return _as_name(header) if found else "", ""
        except (RecursionError, ValueError, IndexError):
            pass
    addresses: list[str] = _ADDRESS.findall(header[:ADDRESS_HEADER_LIMIT * 4])
    return ("", addresses[0].lower()) if len(addresses) == 1 else (_as_name(header), "")


def _is_address(text: str) -> bool:
    """local@domain: a bare word or domain ("partner.example") is no sender and must not pass for one."""
    local, at, domain = text.rpartition("@")
    return bool(at and local and domain)


def _as_name(header: str) -> str:
    return " ".join(header.split())[:200]


def sender_address(header: str) -> str:
    """The one address of a From header, lower-case (empty when it names none or several)."""
    return sender(header)[1]


def all_addresses(header: str) -> tuple[str, ...]:
    """Every address in a To header, lower-case; bounded for hostile headers."""
    if not _too_tangled(header):
        try:
            return tuple(addr.lower() for _, addr in getaddresses([header]) if addr)
        except (RecursionError, ValueError, IndexError):
            pass
    return tuple(match.lower() for match in _ADDRESS.findall(header[:ADDRESS_HEADER_LIMIT * 4]))


def _too_tangled(header: str) -> bool:
    if len(header) > ADDRESS_HEADER_LIMIT:
        return True
    depth = deepest = 0
    for char in header:
        if char == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif char == ")":
            depth = max(0, depth - 1)
    return deepest > ADDRESS_NESTING_LIMIT


def _received_at(value: Any) -> datetime | None:
    return datetime.fromtimestamp(int(value) / 1000, UTC) if value else None


def email_signal(data: dict[str, Any]) -> EmailSignal:
    payload = data.get("payload", {})
    raw_headers = payload.get("headers", []) if isinstance(payload, dict) else None
    if not isinstance(raw_headers, list):
        raise TypeError("the headers are not a list")
    headers = {_text(h["name"]).lower(): _text(h["value"]) for h in raw_headers}
    senders = [_text(h["value"]) for h in raw_headers if _text(h["name"]).lower() == "from"]
    name, address = sender(headers.get("from", "")) if len(senders) <= 1 else (_as_name(", ".join(senders)), "")
    return EmailSignal(
        message_id=_text(data["id"]),
        thread_id=_text(data.get("threadId", data["id"])),
        sender=address,
        sender_name=storable(name),
        subject=headers.get("subject", ""),
        snippet=_text(data.get("snippet", "")),
        labels=_strings(data.get("labelIds", []), "labelIds"),
        received_at=_received_at(data.get("internalDate")),
        to=all_addresses(headers.get("to", "")),
        list_unsubscribe=headers.get("list-unsubscribe"),
        list_id=headers.get("list-id"),
        auto_submitted=headers.get("auto-submitted"),
        precedence=headers.get("precedence"),
    )
