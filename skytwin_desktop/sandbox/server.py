"""The sandbox server: Google's OAuth, Gmail and Calendar endpoints on 127.0.0.1 under one root,
with Google's real paths, so the real google-auth / oauthlib / requests code runs against it
unchanged. Tests and `--demo` drive it in-process; faults are injected per path prefix.

One lock guards all state; handlers hold it only while computing an answer (never while
sleeping or writing to the socket). Nothing here logs a token, code or secret.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from skytwin_desktop.sandbox import calendar, gmail
from skytwin_desktop.sandbox.calendar import CalendarStore
from skytwin_desktop.sandbox.data import sample_events, sample_messages
from skytwin_desktop.sandbox.gmail import Mailbox
from skytwin_desktop.sandbox.oauth import OAuthState
from skytwin_desktop.sandbox.wire import (
    ApiError,
    Query,
    Response,
    Route,
    api_error,
    default_fault_body,
    first,
    json_response,
)

log = logging.getLogger(__name__)
MAX_STALL = 30.0
"""No injected stall sleeps longer than this, whatever the test asked."""
JOIN_TIMEOUT = 5.0


@dataclass
class _Fault:
    prefix: str
    kind: str  # "fail" | "stall" | "malformed" | "reset" | "answer"
    remaining: int
    status: int = 200
    body: dict[str, Any] | str | None = None
    seconds: float = 0.0


class GoogleSandbox:
    """A local stand-in for accounts.google.com, oauth2.googleapis.com, gmail.googleapis.com and
    www.googleapis.com (Calendar), for one account and one registered desktop OAuth client."""

    def __init__(self, account: str = "ada@example.com", now: Callable[[], datetime] | None = None,
                 sample: bool = True) -> None:
        """`sample`: start with a week of sample mail and events (off: an empty mailbox and calendar)."""
        self.account = account.lower()
        self._now = now or (lambda: datetime.now(UTC))
        self._lock = threading.Lock()
        self.client_id = f"{secrets.randbelow(10**12):012d}-sandbox{secrets.token_hex(8)}.apps.googleusercontent.com"
        self.client_secret = "GOCSPX-" + secrets.token_urlsafe(21)
        self._oauth = OAuthState(self.account, self.client_id, self.client_secret)
        self._mail = Mailbox(self.account, self._now)
        self._calendar = CalendarStore(self.account, self._now)
        start = self._now()
        for message in sample_messages(self.account, start) if sample else ():
            self._mail.deliver(message)
        for event in sample_events(self.account, start) if sample else ():
            self._calendar.add_event(event)
        self._faults: list[_Fault] = []
        self._requests: list[tuple[str, str, Query]] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    # ---- life cycle ---------------------------------------------------------------------------
    def start(self) -> GoogleSandbox:
        """Bind 127.0.0.1 on a free port and serve from a daemon thread."""
        if self._server is not None:
            return self
        self._stopping.clear()
        server = _Server(("127.0.0.1", 0), _Handler)
        server.sandbox = self
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="google-sandbox", daemon=True)
        self._thread.start()
        log.info("Google sandbox serving at %s", self.url)
        return self

    def stop(self) -> None:
        """Stop serving and release the port; safe to call twice. Stalled answers are cut short."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._server = self._thread = None
        self._stopping.set()
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(JOIN_TIMEOUT)

    def __enter__(self) -> GoogleSandbox:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the sandbox is not running; call start() first")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # ---- the registered client ----------------------------------------------------------------
    def client_config(self) -> dict[str, Any]:
        """The JSON Google Cloud Console gives for a 'Desktop app' client, pointed at the sandbox."""
        return {"installed": {
            "client_id": self.client_id, "project_id": "skytwin-sandbox",
            "auth_uri": f"{self.url}/o/oauth2/auth", "token_uri": f"{self.url}/token",
            "auth_provider_x509_cert_url": f"{self.url}/oauth2/v1/certs",
            "client_secret": self.client_secret, "redirect_uris": ["http://localhost"],
        }}

    def write_client_secrets(self, path: str | Path) -> Path:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(self.client_config(), indent=2) + "\n", encoding="utf-8")
        target.chmod(0o600)
        return target

    # ---- faults -------------------------------------------------------------------------------
    def fail_next(self, path_prefix: str, status: int, count: int = 1,
                  body: dict[str, Any] | str | None = None) -> None:
        """The next `count` requests under `path_prefix` get `status` (Google's error body by default)."""
        self._add_fault(_Fault(path_prefix, "fail", count, status=status, body=body))

    def stall_next(self, path_prefix: str, seconds: float, count: int = 1) -> None:
        """The next `count` requests under `path_prefix` wait `seconds` (at most 30) before answering."""
        self._add_fault(_Fault(path_prefix, "stall", count, seconds=min(max(seconds, 0.0), MAX_STALL)))

    def malformed_next(self, path_prefix: str, count: int = 1) -> None:
        """The next `count` requests under `path_prefix` get 200 with a body that is not JSON."""
        self._add_fault(_Fault(path_prefix, "malformed", count))

    def reset_next(self, path_prefix: str, count: int = 1) -> None:
        """The next `count` requests under `path_prefix` have their connection closed unanswered."""
        self._add_fault(_Fault(path_prefix, "reset", count))

    def answer_next(self, path_prefix: str, body: Any, count: int = 1, status: int = 200) -> None:
        """The next `count` requests under `path_prefix` get `body` as JSON, whatever its shape
        (odd shapes from Google: a list where an object belongs, a string for a number…)."""
        self._add_fault(_Fault(path_prefix, "answer", count, status=status, body=body))

    def clear_faults(self) -> None:
        """Google answers properly again: faults still waiting are dropped."""
        with self._lock:
            self._faults.clear()

    def _add_fault(self, fault: _Fault) -> None:
        if fault.remaining < 1:
            raise ValueError("count must be at least 1")
        with self._lock:
            self._faults.append(fault)

    def _take_faults(self, path: str) -> tuple[_Fault | None, _Fault | None]:
        """Consume at most one stall and one answer fault (fail, malformed, reset, answer) matching `path`."""
        with self._lock:
            stall = self._take(path, ("stall",))
            answer = self._take(path, ("fail", "malformed", "reset", "answer"))
        return stall, answer

    def _take(self, path: str, kinds: tuple[str, ...]) -> _Fault | None:
        for fault in self._faults:
            if fault.kind in kinds and path.startswith(fault.prefix):
                fault.remaining -= 1
                if fault.remaining == 0:
                    self._faults.remove(fault)
                return fault
        return None

    # ---- account-side changes -----------------------------------------------------------------
    def revoke_grant(self, scope_substring: str | None = None) -> int:
        """The person removes the app's access (all grants, or those with a matching scope)."""
        with self._lock:
            return self._oauth.revoke_grants(scope_substring)

    def expire_access_tokens(self) -> None:
        """Every access token issued so far is now past its hour (refresh tokens still work)."""
        with self._lock:
            self._oauth.expire_access_tokens()

    def expire_history(self) -> None:
        with self._lock:
            self._mail.expire_history()

    def expire_sync_tokens(self) -> None:
        with self._lock:
            self._calendar.expire_sync_tokens()

    def deliver(self, message: dict[str, Any]) -> str:
        with self._lock:
            return self._mail.deliver(message)

    def add_event(self, event: dict[str, Any]) -> str:
        with self._lock:
            return self._calendar.add_event(event)

    def message(self, message_id: str) -> dict[str, Any]:
        with self._lock:
            return self._mail.messages[message_id].summary()

    def message_ids(self) -> list[str]:
        """Every message id, newest first (as messages.list orders them)."""
        with self._lock:
            found = sorted(self._mail.messages.values(), key=lambda m: (m.date, m.id), reverse=True)
            return [m.id for m in found]

    def event(self, event_id: str) -> dict[str, Any]:
        with self._lock:
            return self._calendar.event(event_id)

    def event_ids(self) -> list[str]:
        with self._lock:
            return list(self._calendar.events)

    @property
    def requests(self) -> list[tuple[str, str, Query]]:
        """(method, path, query) of every request served, in order; token values in queries redacted."""
        with self._lock:
            return [(m, p, {k: list(v) for k, v in q.items()}) for m, p, q in self._requests]

    def token_requests(self) -> int:
        with self._lock:
            return sum(1 for m, p, _ in self._requests if m == "POST" and p == "/token")

    # ---- request handling ---------------------------------------------------------------------
    def _handle(self, method: str, raw_path: str, body: bytes, headers: dict[str, str]) -> Response | None:
        """Answer one request; None means "drop the connection" (the sandbox stopped mid-stall, or a
        reset was asked for)."""
        split = urlsplit(raw_path)
        path, query = split.path, parse_qs(split.query, keep_blank_values=True)
        with self._lock:
            shown = {k: (["<redacted>"] if k in ("token", "access_token") else v) for k, v in query.items()}
            self._requests.append((method, path, shown))
        log.debug("sandbox %s %s", method, path)
        stall, fault = self._take_faults(path)
        if stall is not None and self._stopping.wait(stall.seconds):
            return None
        if fault is not None and fault.kind == "malformed":
            return Response(200, b'{"kind": "truncated', "application/json; charset=UTF-8")
        if fault is not None and fault.kind == "reset":
            return None
        if fault is not None and fault.kind == "answer":
            return Response(fault.status, json.dumps(fault.body).encode("utf-8"), "application/json; charset=UTF-8")
        if fault is not None:
            if isinstance(fault.body, str):
                return Response(fault.status, fault.body.encode("utf-8"), "text/plain; charset=utf-8")
            return json_response(fault.body if fault.body is not None else default_fault_body(fault.status),
                                 fault.status)
        try:
            with self._lock:
                return self._route(method, path, query, body, headers)
        except ApiError as exc:
            return exc.response

    def _route(self, method: str, path: str, query: Query, body: bytes, headers: dict[str, str]) -> Response:
        oauth = self._oauth
        if path == "/o/oauth2/auth" and method == "GET":
            return oauth.authorize(query)
        if path == "/token" and method == "POST":
            return oauth.token(_form(body), headers.get("authorization"))
        if path in ("/revoke", "/o/oauth2/revoke") and method in ("POST", "GET"):
            return oauth.revoke(first(_form(body), "token") or first(query, "token"))
        parts = [unquote(p) for p in path.split("/")[1:]]
        route: Route
        if parts[:3] == ["gmail", "v1", "users"] and len(parts) > 4:
            route = self._mail.route(method, parts[3], parts[4:])
            oauth.check(headers.get("authorization"), gmail.WRITE_SCOPES if route.write else gmail.READ_SCOPES,
                        "gmail.googleapis.com", route.rpc)
        elif parts[:3] == ["calendar", "v3", "calendars"] and len(parts) > 4:
            route = self._calendar.route(method, parts[3], parts[4:])
            oauth.check(headers.get("authorization"),
                        calendar.WRITE_SCOPES if route.write else calendar.READ_SCOPES,
                        "calendar-json.googleapis.com", route.rpc)
        else:
            raise api_error(404, f"Method not found: {method} {path}", "notFound")
        return route.call(query, body)


def _form(body: bytes) -> Query:
    try:
        return parse_qs(body.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError:
        return {}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    sandbox: GoogleSandbox

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("sandbox connection from %s ended abruptly", client_address[0], exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    """Plain HTTP/1.0: one request per connection, so nothing lingers after the sandbox stops."""

    server: _Server
    server_version = "ESF"

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:
        """Request lines carry auth codes and PKCE values; never write them out."""

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PATCH(self) -> None:
        self._serve("PATCH")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length > 0 else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            try:
                response = self.server.sandbox._handle(method, self.path, body, headers)
            except Exception:
                log.exception("sandbox failed answering %s %s", method, urlsplit(self.path).path)
                response = json_response(default_fault_body(500), 500)
            if response is None:
                self.close_connection = True
                return
            self.send_response(response.status)
            if response.content_type:
                self.send_header("Content-Type", response.content_type)
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            if method != "HEAD" and response.body:
                self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            self.close_connection = True  # the client gave up (time-out tests); nothing to answer
