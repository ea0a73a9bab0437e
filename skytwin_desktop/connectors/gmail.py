"""Reading Gmail: a first sync of recent mail, then the History API from the stored history id."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from email.utils import getaddresses, parseaddr

from skytwin_desktop.connectors.failures import ConnectorFailure, Failure
from skytwin_desktop.connectors.http import ApiError, GoogleHttp
from skytwin_desktop.connectors.signals import EmailSignal, PollResult

log = logging.getLogger(__name__)
FIRST_SYNC_QUERIES = ("in:sent newer_than:7d", "is:unread newer_than:1d")
FIRST_SYNC_CAP = 100
"""At most this many messages per first-sync query: enough context, never the whole mailbox."""
HISTORY_PAGE_CAP = 20
HEADERS = ("From", "To", "Subject", "Date", "List-Unsubscribe", "List-Id", "Reply-To", "Auto-Submitted",
           "Precedence")


class GmailReader:
    def __init__(self, http: GoogleHttp, base: str) -> None:
        self.http = http
        self.base = f"{base}/users/me"

    def account(self) -> str:
        return str(self._get("/profile")["emailAddress"]).lower()

    def poll(self, cursor: str | None) -> PollResult:
        if cursor:
            try:
                return self._since(cursor)
            except ApiError as exc:
                if exc.status != 404:
                    raise exc.as_failure() from None
                log.info("Gmail history id too old; syncing recent mail again")
        return self._first_sync()

    def _get(self, path: str, params=None) -> dict:
        try:
            return self.http.call("GET", self.base + path, params=params)
        except ApiError as exc:
            raise exc.as_failure() from None

    def _first_sync(self) -> PollResult:
        profile = self._get("/profile")
        ids: dict[str, None] = {}
        for query in FIRST_SYNC_QUERIES:
            listing = self._get("/messages", {"q": query, "maxResults": FIRST_SYNC_CAP})
            for item in listing.get("messages", []):
                ids.setdefault(item["id"])
        signals = [s for s in (self._message(mid) for mid in ids) if s is not None]
        return PollResult(signals, str(profile["historyId"]), str(profile.get("emailAddress", "")).lower() or None,
                          bootstrapped=True)

    def _since(self, cursor: str) -> PollResult:
        added: dict[str, None] = {}
        newest = cursor
        page_token = None
        for _ in range(HISTORY_PAGE_CAP):
            params = {"startHistoryId": cursor, "historyTypes": "messageAdded"}
            if page_token:
                params["pageToken"] = page_token
            page = self.http.call("GET", self.base + "/history", params=params)
            for record in page.get("history", []):
                for item in record.get("messagesAdded", []):
                    added.setdefault(item["message"]["id"])
            newest = str(page.get("historyId", newest))
            page_token = page.get("nextPageToken")
            if not page_token:
                break
        signals = [s for s in (self._message(mid) for mid in added) if s is not None]
        return PollResult(signals, newest)

    def _message(self, message_id: str) -> EmailSignal | None:
        try:
            data = self.http.call("GET", f"{self.base}/messages/{message_id}",
                                  params=[("format", "metadata"), *[("metadataHeaders", h) for h in HEADERS]])
        except ApiError as exc:
            if exc.status == 404:  # deleted between listing and reading: nothing to do
                return None
            raise exc.as_failure() from None
        try:
            return email_signal(data)
        except (KeyError, TypeError, ValueError):
            raise ConnectorFailure(Failure(False, "malformed_response"), "a Gmail message had an unexpected shape") from None


def email_signal(data: dict) -> EmailSignal:
    headers = {h["name"].lower(): h["value"] for h in data.get("payload", {}).get("headers", [])}
    name, address = parseaddr(headers.get("from", ""))
    internal = data.get("internalDate")
    return EmailSignal(
        message_id=data["id"],
        thread_id=data.get("threadId", data["id"]),
        sender=address.lower(),
        sender_name=name,
        subject=headers.get("subject", ""),
        snippet=data.get("snippet", ""),
        labels=tuple(data.get("labelIds", [])),
        received_at=datetime.fromtimestamp(int(internal) / 1000, UTC) if internal else None,
        to=tuple(addr.lower() for _, addr in getaddresses([headers.get("to", "")]) if addr),
        list_unsubscribe=headers.get("list-unsubscribe"),
        list_id=headers.get("list-id"),
        reply_to=headers.get("reply-to"),
        auto_submitted=headers.get("auto-submitted"),
        precedence=headers.get("precedence"),
    )
