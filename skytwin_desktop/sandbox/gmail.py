"""Gmail API v1 (users.me profile, messages list/get/modify, history, labels) over an in-memory
mailbox, with Gmail's history ids so incremental sync, and its failure modes, can be exercised.

Not thread-safe on its own: the sandbox calls it while holding its one lock.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parseaddr
from typing import Any

from skytwin_desktop.sandbox.wire import (
    Query,
    Response,
    Route,
    api_error,
    first,
    json_object,
    json_response,
    not_found,
    truthy,
)

READ_SCOPES = ("https://mail.google.com/", "https://www.googleapis.com/auth/gmail.modify",
               "https://www.googleapis.com/auth/gmail.readonly", "https://www.googleapis.com/auth/gmail.metadata")
WRITE_SCOPES = ("https://mail.google.com/", "https://www.googleapis.com/auth/gmail.modify")
SYSTEM_LABELS = ("INBOX", "SPAM", "TRASH", "UNREAD", "STARRED", "IMPORTANT", "SENT", "DRAFT", "CHAT",
                 "CATEGORY_PERSONAL", "CATEGORY_SOCIAL", "CATEGORY_PROMOTIONS", "CATEGORY_UPDATES",
                 "CATEGORY_FORUMS")
USER_LABELS = {"Label_1": "Receipts", "Label_2": "Travel"}
HISTORY_KEYS = {"messageAdded": "messagesAdded", "messageDeleted": "messagesDeleted",
                "labelAdded": "labelsAdded", "labelRemoved": "labelsRemoved"}
CATEGORIES = {"primary": "CATEGORY_PERSONAL", "social": "CATEGORY_SOCIAL", "promotions": "CATEGORY_PROMOTIONS",
              "updates": "CATEGORY_UPDATES", "forums": "CATEGORY_FORUMS"}
FORMATS = ("minimal", "full", "raw", "metadata")
_TERM = re.compile(r'(-?)(?:([A-Za-z_]+):)?("[^"]*"|\S+)')
_AGE = re.compile(r"^(\d+)([dhmy])$")
_AGE_UNITS = {"d": timedelta(days=1), "h": timedelta(hours=1), "m": timedelta(days=30), "y": timedelta(days=365)}


@dataclass
class Message:
    id: str
    thread_id: str
    labels: list[str]
    sender: str
    to: str
    cc: str
    subject: str
    body: str
    html: str | None
    snippet: str
    extra_headers: list[tuple[str, str]]
    date: datetime
    history_id: int
    inbound: bool

    def headers(self, account: str) -> list[tuple[str, str]]:
        domain = parseaddr(self.sender)[1].partition("@")[2] or "mail.example"
        items = [("Delivered-To", account)] if self.inbound else []
        items += [("MIME-Version", "1.0"), ("Date", format_datetime(self.date.astimezone(UTC))),
                  ("Message-ID", f"<{self.id}.sandbox@{domain}>"), ("Subject", self.subject),
                  ("From", self.sender), ("To", self.to)]
        if self.cc:
            items.append(("Cc", self.cc))
        items += self.extra_headers
        items.append(("Content-Type", f'multipart/alternative; boundary="{self._boundary}"' if self.html
                      else 'text/plain; charset="UTF-8"'))
        return items

    @property
    def _boundary(self) -> str:
        return f"000000000000sandbox{self.id}"

    def raw(self, account: str) -> bytes:
        head = "".join(f"{name}: {value}\r\n" for name, value in self.headers(account))
        if not self.html:
            return (head + "\r\n" + self.body + "\r\n").encode("utf-8", "surrogatepass")  # a broken header stays broken
        b = self._boundary
        parts = "".join(f"--{b}\r\nContent-Type: {kind}; charset=\"UTF-8\"\r\n\r\n{text}\r\n"
                        for kind, text in (("text/plain", self.body), ("text/html", self.html)))
        return (head + "\r\n" + parts + f"--{b}--\r\n").encode("utf-8", "surrogatepass")  # a broken header stays broken

    def resource(self, account: str, fmt: str = "minimal", wanted: list[str] | None = None) -> dict[str, Any]:
        """The message as users.messages.get returns it in format `fmt`."""
        raw = self.raw(account)
        out: dict[str, Any] = {"id": self.id, "threadId": self.thread_id}
        if self.labels:
            out["labelIds"] = list(self.labels)
        out["snippet"] = self.snippet
        if fmt == "metadata":
            names = {w.lower() for w in wanted or []}
            out["payload"] = {"mimeType": "multipart/alternative" if self.html else "text/plain",
                              "headers": [{"name": n, "value": v} for n, v in self.headers(account)
                                          if not names or n.lower() in names]}
        elif fmt == "full":
            out["payload"] = self._full_payload(account)
        out["sizeEstimate"] = len(raw)
        out["historyId"] = str(self.history_id)
        out["internalDate"] = str(int(self.date.timestamp() * 1000))
        if fmt == "raw":
            out["raw"] = _b64(raw)
        return out

    def _full_payload(self, account: str) -> dict[str, Any]:
        headers = [{"name": n, "value": v} for n, v in self.headers(account)]
        if not self.html:
            return {"partId": "", "mimeType": "text/plain", "filename": "", "headers": headers,
                    "body": _body(self.body)}
        parts = [{"partId": str(i), "mimeType": kind, "filename": "",
                  "headers": [{"name": "Content-Type", "value": f'{kind}; charset="UTF-8"'}], "body": _body(text)}
                 for i, (kind, text) in enumerate((("text/plain", self.body), ("text/html", self.html)))]
        return {"partId": "", "mimeType": "multipart/alternative", "filename": "", "headers": headers,
                "body": {"size": 0}, "parts": parts}

    def summary(self) -> dict[str, Any]:
        """What `GoogleSandbox.message(id)` hands a test: the stored fields, Gmail's names where they exist."""
        return {"id": self.id, "threadId": self.thread_id, "labelIds": list(self.labels), "from": self.sender,
                "to": self.to, "cc": self.cc, "subject": self.subject, "snippet": self.snippet, "body": self.body,
                "headers": dict(self.extra_headers), "date": self.date, "historyId": str(self.history_id)}


@dataclass
class HistoryRecord:
    id: int
    message: Message
    labels: list[str]
    added: bool = False
    labels_added: list[str] = field(default_factory=list)
    labels_removed: list[str] = field(default_factory=list)

    def render(self, types: set[str], label_id: str | None) -> dict[str, Any] | None:
        if label_id and label_id not in self.labels + self.labels_added + self.labels_removed:
            return None
        ref = {"id": self.message.id, "threadId": self.message.thread_id}
        full = {**ref, "labelIds": list(self.labels)}
        kinds: dict[str, Any] = {}
        if self.added:
            kinds["messageAdded"] = [{"message": full}]
        if self.labels_added:
            kinds["labelAdded"] = [{"message": full, "labelIds": list(self.labels_added)}]
        if self.labels_removed:
            kinds["labelRemoved"] = [{"message": full, "labelIds": list(self.labels_removed)}]
        kept = {HISTORY_KEYS[k]: v for k, v in kinds.items() if not types or k in types}
        return {"id": str(self.id), "messages": [ref], **kept} if kept else None


class Mailbox:
    """One account's mailbox and its history, as Gmail keeps them."""

    def __init__(self, account: str, now: Callable[[], datetime]) -> None:
        self.account = account
        self.now = now
        self.messages: dict[str, Message] = {}
        self.history: list[HistoryRecord] = []
        self.history_id = 4_718_200
        self.floor = self.history_id
        """history.list answers 404 for a startHistoryId below this (history no longer kept)."""
        self._threads: dict[str, str] = {}
        self._serial = 0

    # ---- changes made by the sandbox owner ----------------------------------------------------
    def deliver(self, spec: dict[str, Any]) -> str:
        date = spec.get("date") or self.now()
        if date.tzinfo is None:
            raise ValueError("message date must be timezone-aware")
        labels = list(dict.fromkeys(spec.get("labels", ["INBOX", "UNREAD"])))
        unknown = [label for label in labels if label not in SYSTEM_LABELS and label not in USER_LABELS]
        if unknown:
            raise ValueError(f"unknown Gmail labels: {unknown}")
        self._serial += 1
        message_id = spec.get("id") or f"{(int(date.timestamp() * 1000) << 20 | self._serial) & (2**64 - 1):016x}"
        thread_key = spec.get("thread")
        thread_id = spec.get("threadId") or (self._threads.get(thread_key) if thread_key else None) or message_id
        if thread_key:
            self._threads.setdefault(thread_key, thread_id)
        body = spec.get("body") or spec.get("snippet") or ""
        to = spec.get("to", self.account)
        headers = spec.get("headers") or {}
        message = Message(
            id=message_id, thread_id=thread_id, labels=labels, sender=spec.get("from", "someone@example.com"),
            to=", ".join(to) if isinstance(to, list | tuple) else to, cc=spec.get("cc", ""),
            subject=spec.get("subject", ""), body=body, html=spec.get("html"),
            snippet=spec.get("snippet") or " ".join(body.split())[:200],
            extra_headers=list(headers.items()) if isinstance(headers, dict) else [tuple(h) for h in headers],
            date=date, history_id=0, inbound="SENT" not in labels)
        message.history_id = self._bump()
        self.messages[message_id] = message
        self.history.append(HistoryRecord(message.history_id, message, list(labels), added=True))
        return message_id

    def expire_history(self) -> None:
        """Every history id handed out so far is now older than Gmail keeps; later ones work."""
        self.floor = self.history_id + 1
        self._bump()

    def _bump(self) -> int:
        self.history_id += 1 + self._serial % 3  # Gmail's ids grow, with gaps
        return self.history_id

    # ---- HTTP ---------------------------------------------------------------------------------
    def route(self, method: str, user_id: str, parts: list[str]) -> Route:
        """Find the endpoint for /gmail/v1/users/{user_id}/{parts...}; 404 for anything else."""
        found = self._endpoint(method, parts)
        if found is None:
            raise not_found()
        call, rpc, write = found

        def checked(query: Query, body: bytes) -> Response:
            if user_id != "me" and user_id.lower() != self.account:
                raise api_error(403, f"Delegation denied for {self.account}", "forbidden")
            return call(query, body)

        return Route(checked, f"caribou.api.proto.MailboxService.{rpc}", write)

    def _endpoint(self, method: str, parts: list[str]) -> tuple[Callable[[Query, bytes], Response], str, bool] | None:
        match (method, parts):
            case ("GET", ["profile"]):
                return (lambda q, b: self._profile()), "GetProfile", False
            case ("GET", ["messages"]):
                return (lambda q, b: self._list(q)), "ListMessages", False
            case ("GET", ["messages", message_id]):
                return (lambda q, b: self._get(message_id, q)), "GetMessage", False
            case ("POST", ["messages", message_id, "modify"]):
                return (lambda q, b: self._modify(message_id, b)), "ModifyMessage", True
            case ("GET", ["history"]):
                return (lambda q, b: self._history(q)), "ListHistory", False
            case ("GET", ["labels"]):
                return (lambda q, b: self._labels()), "ListLabels", False
            case ("GET", ["labels", label_id]):
                return (lambda q, b: self._label(label_id)), "GetLabel", False
        return None

    def _profile(self) -> Response:
        return json_response({"emailAddress": self.account, "messagesTotal": len(self.messages),
                              "threadsTotal": len({m.thread_id for m in self.messages.values()}),
                              "historyId": str(self.history_id)})

    def _list(self, query: Query) -> Response:
        limit = _int_param(query, "maxResults", 100, 500)
        offset = _offset(query)
        terms = _TERM.findall(first(query, "q") or "")
        wants_hidden = truthy(query, "includeSpamTrash") or any(
            v.strip('"').lower() in ("spam", "trash", "anywhere") for _, k, v in terms if k.lower() in ("in", "label"))
        label_ids = query.get("labelIds", [])
        found = [m for m in sorted(self.messages.values(), key=lambda m: (m.date, m.id), reverse=True)
                 if (wants_hidden or not {"SPAM", "TRASH"} & set(m.labels))
                 and all(label in m.labels for label in label_ids)
                 and all(self._matches(m, neg, key.lower(), value.strip('"')) for neg, key, value in terms)]
        page = found[offset:offset + limit]
        out: dict[str, Any] = {}
        if page:
            out["messages"] = [{"id": m.id, "threadId": m.thread_id} for m in page]
        if offset + limit < len(found):
            out["nextPageToken"] = f"{offset + limit:020d}"
        out["resultSizeEstimate"] = len(found)
        return json_response(out)

    def _matches(self, m: Message, negated: str, key: str, value: str) -> bool:
        return self._term(m, key, value) != bool(negated)

    def _term(self, m: Message, key: str, value: str) -> bool:
        v = value.lower()
        if key in ("in", "is"):
            if key == "in" and v == "anywhere":
                return True
            if v == "read":
                return "UNREAD" not in m.labels
            return v.upper() in m.labels
        if key == "label":
            return any(v.replace("-", " ") in (label.lower(), USER_LABELS.get(label, "").lower().replace("-", " "))
                       for label in m.labels)
        if key == "category":
            return CATEGORIES.get(v, "?") in m.labels
        if key in ("newer_than", "older_than"):
            age = _AGE.match(v)
            if not age:
                return False
            cutoff = self.now() - int(age.group(1)) * _AGE_UNITS[age.group(2)]
            return m.date > cutoff if key == "newer_than" else m.date < cutoff
        if key in ("after", "before"):
            moment = _day_or_epoch(v)
            return moment is not None and (m.date >= moment if key == "after" else m.date < moment)
        fields = {"from": m.sender, "to": m.to, "cc": m.cc, "subject": m.subject,
                  "list": dict(m.extra_headers).get("List-Id", "")}
        if key in fields:
            return v in fields[key].lower()
        if key == "has":
            return v == "userlabels" and any(label in USER_LABELS for label in m.labels)
        text = f"{key}:{v}" if key else v
        return any(text in s.lower() for s in (m.subject, m.body, m.sender, m.to, m.snippet))

    def _get(self, message_id: str, query: Query) -> Response:
        fmt = first(query, "format") or "full"
        if fmt not in FORMATS:
            raise api_error(400, f"Invalid value at 'format' (type.googleapis.com/gmail.v1.Format), \"{fmt}\"",
                            "invalidArgument")
        message = self.messages.get(message_id)
        if message is None:
            raise not_found()
        return json_response(message.resource(self.account, fmt, query.get("metadataHeaders")))

    def _modify(self, message_id: str, body: bytes) -> Response:
        request = json_object(body)
        add, remove = list(request.get("addLabelIds") or []), list(request.get("removeLabelIds") or [])
        message = self.messages.get(message_id)
        if message is None:
            raise not_found()
        if not add and not remove:
            raise api_error(400, "No label add or removes specified", "invalidArgument")
        for label in add + remove:
            if label not in SYSTEM_LABELS and label not in USER_LABELS:
                raise api_error(400, f"Invalid label: {label}", "invalidArgument")
        added = [label for label in dict.fromkeys(add) if label not in message.labels and label not in remove]
        removed = [label for label in dict.fromkeys(remove) if label in message.labels]
        if added or removed:
            message.labels = [label for label in message.labels if label not in removed] + added
            message.history_id = self._bump()
            self.history.append(HistoryRecord(message.history_id, message, list(message.labels),
                                              labels_added=added, labels_removed=removed))
        return json_response(message.resource(self.account, "minimal"))

    def _history(self, query: Query) -> Response:
        start = first(query, "startHistoryId")
        if not start:
            raise api_error(400, "Required parameter: startHistoryId", "required",
                            location="startHistoryId")
        if not start.isdigit():
            raise api_error(400, f"Invalid value at 'start_history_id' (TYPE_UINT64), \"{start}\"",
                            "invalidArgument")
        types = set(query.get("historyTypes", []))
        bad = types - HISTORY_KEYS.keys()
        if bad:
            raise api_error(400, f"Invalid value at 'history_types' (type.googleapis.com/gmail.v1.HistoryType), "
                            f"\"{sorted(bad)[0]}\"", "invalidArgument")
        if int(start) < self.floor:
            raise not_found()
        limit = _int_param(query, "maxResults", 100, 500)
        offset = _offset(query)
        label_id = first(query, "labelId")
        rendered = [r for r in (h.render(types, label_id) for h in self.history if h.id > int(start)) if r]
        page = rendered[offset:offset + limit]
        out: dict[str, Any] = {}
        if page:
            out["history"] = page
        if offset + limit < len(rendered):
            out["nextPageToken"] = f"{offset + limit:020d}"
        out["historyId"] = str(self.history_id)
        return json_response(out)

    def _labels(self) -> Response:
        return json_response({"labels": [self._label_resource(label) for label in (*SYSTEM_LABELS, *USER_LABELS)]})

    def _label(self, label_id: str) -> Response:
        if label_id not in SYSTEM_LABELS and label_id not in USER_LABELS:
            raise not_found()
        counted = [m for m in self.messages.values() if label_id in m.labels]
        unread = [m for m in counted if "UNREAD" in m.labels]
        return json_response({**self._label_resource(label_id),
                              "messagesTotal": len(counted), "messagesUnread": len(unread),
                              "threadsTotal": len({m.thread_id for m in counted}),
                              "threadsUnread": len({m.thread_id for m in unread})})

    @staticmethod
    def _label_resource(label_id: str) -> dict[str, Any]:
        if label_id in USER_LABELS:
            return {"id": label_id, "name": USER_LABELS[label_id], "messageListVisibility": "show",
                    "labelListVisibility": "labelShow", "type": "user"}
        return {"id": label_id, "name": label_id, "type": "system"}


def _int_param(query: Query, name: str, default: int, cap: int) -> int:
    raw = first(query, name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit():
        raise api_error(400, f"Invalid value at '{name}' (TYPE_UINT32), \"{raw}\"", "invalidArgument")
    return max(1, min(int(raw), cap))


def _offset(query: Query) -> int:
    token = first(query, "pageToken")
    if not token:
        return 0
    if not token.isdigit():
        raise api_error(400, "Invalid pageToken", "invalidArgument")
    return int(token)


def _day_or_epoch(value: str) -> datetime | None:
    if value.isdigit():
        return datetime.fromtimestamp(int(value), UTC)
    try:
        return datetime.strptime(value.replace("-", "/"), "%Y/%m/%d").replace(tzinfo=UTC)
    except ValueError:
        return None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii")


def _body(text: str) -> dict[str, Any]:
    data = text.encode("utf-8")
    return {"size": len(data), "data": _b64(data)}
