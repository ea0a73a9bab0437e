"""Connectors end to end: the real google-auth / oauthlib / requests code against the local
Google sandbox on 127.0.0.1. No mocks of our own code on this path."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import threading

import pytest
from sqlalchemy import select

from skytwin_desktop.composition import build_context
from skytwin_desktop.config import Config
from skytwin_desktop.connectors import http as connector_http
from skytwin_desktop.domain import Connector
from skytwin_desktop.intents import Intents
from skytwin_desktop.outcomes import PollOutcome as Outcome
from skytwin_desktop.scheduler import PollScheduler
from skytwin_desktop.store.models import ConnectorCursor, SignalInboxRow
from tests.support.app_process import until

pytestmark = pytest.mark.slow  # starts processes

GMAIL, CALENDAR = Connector.GMAIL, Connector.CALENDAR


def cli(*args: str, timeout: int = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "skytwin_desktop", *args], capture_output=True, text=True,
                          timeout=timeout)


def status() -> dict:
    done = cli("status", "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture
def app(google, clock):
    """The app's own service objects, in-process, sharing the data dir and keyring with the CLI."""
    context = build_context(Config.from_env(), clock=clock)
    yield context
    context.close()


def connect(*connectors: Connector) -> None:
    for connector in connectors:
        done = cli("connect", connector.value)
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"{connector.display_name} connected." in done.stdout


def test_connect_with_the_loopback_flow_then_poll(google, data_dir):
    connect(GMAIL, CALENDAR)
    report = status()
    assert {name: c["status"] for name, c in report["connectors"].items()} == {"gmail": "connected",
                                                                                "calendar": "connected"}
    assert report["any_needs_reauth"] is False
    auth = [(m, p, q) for m, p, q in google.requests if p == "/o/oauth2/auth"]
    assert len(auth) == 2
    assert all(q["code_challenge_method"] == ["S256"] and q["state"] and q["access_type"] == ["offline"]
               for _, _, q in auth)
    assert [q["scope"] for _, _, q in auth] == [["https://www.googleapis.com/auth/gmail.modify"],
                                               ["https://www.googleapis.com/auth/calendar.events"]]
    done = cli("poll-once")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Gmail: read" in done.stdout and "Calendar: read" in done.stdout


def test_first_sync_records_signals_and_cursor_together(google, app):
    connect(GMAIL, CALENDAR)  # connecting polls at once
    with app.session() as session:
        rows = session.scalars(select(SignalInboxRow)).all()
        cursors = {row.connector_name: row.cursor for row in session.scalars(select(ConnectorCursor))}
    by_connector = {name: [r for r in rows if r.connector_name == name] for name in ("gmail", "calendar")}
    assert by_connector["gmail"] and by_connector["calendar"]
    assert set(cursors) == {"gmail", "calendar"}
    first_sync = {(tuple(r.payload["labels"])) for r in by_connector["gmail"]}
    assert all("SENT" in labels or "UNREAD" in labels for labels in first_sync), "recent sent and unread mail"
    invites = [r for r in by_connector["calendar"] if r.payload["self_response"] == "needsAction"]
    assert invites and any(r.payload["conflicts"] for r in invites), "an overlapping invite is a conflict"

    google.deliver({"from": "Weekly Digest <news@weekly-digest.example>", "to": "ada@example.com",
                    "subject": "This week", "snippet": "Top stories", "labels": ["INBOX", "UNREAD"],
                    "headers": {"List-Unsubscribe": "<mailto:unsub@weekly-digest.example>"}})
    report = app.connectors.poll(GMAIL)
    assert (report.outcome, report.signals) == (Outcome.OK, 1), "history brings only the new message"
    with app.session() as session:
        newest = session.scalars(select(SignalInboxRow).where(SignalInboxRow.payload["subject"].as_string()
                                                              == "This week")).one()
    assert newest.payload["list_unsubscribe"] == "<mailto:unsub@weekly-digest.example>"
    assert newest.payload["sender"] == "news@weekly-digest.example"


def test_revoked_gmail_needs_reauth_and_calendar_keeps_working(google, app):
    connect(GMAIL, CALENDAR)
    assert google.revoke_grant("gmail.modify") == 1
    google.expire_access_tokens()  # as after an hour: the next call must refresh
    done = cli("poll-once")
    assert done.returncode == 1
    assert "Gmail: Google refused; it needs reconnecting (Google access was revoked or expired)" in done.stdout
    assert "Calendar: read" in done.stdout and "invalid_grant" not in done.stdout
    report = status()
    assert report["connectors"]["gmail"]["status"] == "needs_reauth"
    assert report["connectors"]["gmail"]["error_code"] == "invalid_grant"
    assert report["connectors"]["gmail"]["last_success_at"] is not None, "the last-good marker stays"
    assert report["connectors"]["calendar"]["status"] == "connected"
    assert report["any_needs_reauth"] is True

    assert app.connectors.poll(CALENDAR).succeeded  # this process's Calendar access token, cached from here on
    token_requests = google.token_requests()
    for _ in range(3):
        reports = {c: app.connectors.poll(c).outcome for c in (GMAIL, CALENDAR)}
        assert reports == {GMAIL: Outcome.NEEDS_REAUTH, CALENDAR: Outcome.OK}
    assert google.token_requests() == token_requests, "no token requests while the breaker is open"
    again = cli("poll-once")  # a separate process respects it too
    assert again.returncode == 1 and "Gmail: needs reconnecting" in again.stdout and "Calendar: read" in again.stdout

    connect(GMAIL)  # reconnect: connected at once, no waiting for a backoff
    assert status()["connectors"]["gmail"]["status"] == "connected"
    assert cli("poll-once").returncode == 0


def test_transient_burst_backs_off_and_recovers(google, app, clock):
    connect(GMAIL)
    google.fail_next("/gmail/v1", 503, count=3)
    outcomes = [app.connectors.poll(GMAIL).outcome for _ in range(3)]
    assert outcomes == [Outcome.TRANSIENT_FAILURE] * 3
    assert status()["connectors"]["gmail"]["status"] == "connected", "a blip never means reconnect"
    requests_before = len(google.requests)
    assert app.connectors.poll(GMAIL).outcome is Outcome.BACKING_OFF
    assert len(google.requests) == requests_before, "backing off means no requests"
    clock.advance(minutes=6)
    assert app.connectors.poll(GMAIL).outcome is Outcome.OK, "the half-open probe succeeds"
    assert app.connectors.poll(GMAIL).outcome is Outcome.OK


def test_token_endpoint_429_is_transient(google, app):
    connect(GMAIL)
    google.expire_access_tokens()
    google.fail_next("/token", 429, count=5, body={"error": "rate_limit_exceeded"})
    report = app.connectors.poll(GMAIL)
    assert report.outcome is Outcome.TRANSIENT_FAILURE
    assert status()["connectors"]["gmail"]["status"] == "connected"


def test_insufficient_scope_needs_reauth(google, app):
    connect(CALENDAR)
    body = {"error": {"code": 403, "message": "Request had insufficient authentication scopes.",
                      "errors": [{"message": "Insufficient Permission", "domain": "global",
                                  "reason": "insufficientPermissions"}], "status": "PERMISSION_DENIED"}}
    google.fail_next("/calendar/v3", 403, body=body)
    report = app.connectors.poll(CALENDAR)
    assert (report.outcome, report.error_code) == (Outcome.PERMANENT_FAILURE, "insufficient_scope")
    assert status()["connectors"]["calendar"]["error_code"] == "insufficient_scope"


def test_api_401s_while_the_token_refreshes_fine_are_not_a_reauth(google, app):
    """google-auth answers a 401 by refreshing the token and trying again; when Google still says
    401 while the refresh itself works, the sign-in is good: Gmail stays connected, not read for
    now, and is read again once Google accepts the token. Only a refused refresh means re-auth."""
    connect(GMAIL)
    refreshes = lambda: sum(1 for _, path, _ in google.requests if path.endswith("/token"))  # noqa: E731
    before = refreshes()
    google.fail_next("/gmail/v1", 401, count=3)
    report = app.connectors.poll(GMAIL)
    assert (report.outcome, report.error_code) == (Outcome.TRANSIENT_FAILURE, "fresh_token_refused")
    assert refreshes() > before, "the token was refreshed first"
    assert status()["connectors"]["gmail"]["status"] == "connected"
    assert app.connectors.poll(GMAIL).succeeded
    google.revoke_grant("gmail")
    google.expire_access_tokens()
    google.fail_next("/gmail/v1", 401, count=3)
    report = app.connectors.poll(GMAIL)
    assert (report.outcome, report.error_code) == (Outcome.PERMANENT_FAILURE, "invalid_grant")
    assert status()["connectors"]["gmail"]["status"] == "needs_reauth"


def test_malformed_answer_and_stall_are_transient(google, app, monkeypatch):
    connect(GMAIL)
    google.malformed_next("/gmail/v1")
    assert app.connectors.poll(GMAIL).error_code == "malformed_response"
    monkeypatch.setattr(connector_http, "READ_TIMEOUT", 0.5)
    google.stall_next("/gmail/v1", 3)
    assert app.connectors.poll(GMAIL).error_code == "timeout"
    assert status()["connectors"]["gmail"]["status"] == "connected"


def test_old_history_id_and_expired_sync_token_recover(google, app):
    connect(GMAIL, CALENDAR)
    google.expire_history()
    google.expire_sync_tokens()
    assert app.connectors.poll(GMAIL).outcome is Outcome.OK
    assert app.connectors.poll(CALENDAR).outcome is Outcome.OK
    paths = [p for _, p, _ in google.requests]
    tried = max(i for i, p in enumerate(paths) if p.endswith("/history"))
    assert any(p.endswith("/profile") for p in paths[tried:]), "after the 404, a fresh first sync"
    listings = [q for _, p, q in google.requests if p.endswith("/calendars/primary/events")]
    assert "syncToken" in listings[-2] and "timeMin" in listings[-1], "after the 410, one full resync"


def test_disconnect_revokes_only_when_no_other_connector_shares_the_account(google, app):
    connect(GMAIL, CALENDAR)
    first = cli("disconnect", "gmail")
    assert first.returncode == 0 and "not revoked at Google because Calendar" in first.stdout
    assert not any(p == "/revoke" for _, p, _ in google.requests)
    assert app.connectors.poll(CALENDAR).outcome is Outcome.OK, "Calendar still has access"
    second = cli("disconnect", "calendar")
    assert second.returncode == 0 and "revoked at Google" in second.stdout
    assert any(m == "POST" and p == "/revoke" for m, p, _ in google.requests)
    report = status()
    assert {c["status"] for c in report["connectors"].values()} == {"disabled"}
    assert cli("poll-once").returncode == 0, "nothing connected: nothing failed"


def test_no_token_appears_in_the_database_logs_or_status(google, app, data_dir, tmp_path):
    connect(GMAIL, CALENDAR)
    app.connectors.poll(GMAIL)
    from keyrings.alt.file import PlaintextKeyring

    secrets = [PlaintextKeyring().get_password("skytwin-desktop", f"user-{app.user_id}:{c.value}")
               for c in (GMAIL, CALENDAR)]
    assert all(secrets), "the tokens went to the configured keyring"
    app.close()
    stored = b"".join(p.read_bytes() for p in data_dir.rglob("*") if p.is_file() and "demo" not in p.name)
    status_text = cli("status", "--json").stdout
    for needle in [*secrets, "ya29.", "1//"]:
        assert needle.encode() not in stored
        assert needle not in status_text


def test_connect_without_client_secrets_says_how(monkeypatch):
    monkeypatch.delenv("SKYTWIN_GOOGLE_CLIENT_SECRETS", raising=False)
    done = cli("connect", "gmail")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "SKYTWIN_GOOGLE_CLIENT_SECRETS" in done.stderr and "--demo" in done.stderr


def test_scheduler_polls_in_the_background_and_stops_cleanly(google, app):
    connect(GMAIL, CALENDAR)
    before = {t.ident for t in threading.enumerate()}
    done = threading.Event()
    seen = []

    def on_change(change):
        if change.poll is not None:
            seen.append(change.poll)
        if len(seen) >= 2:
            done.set()

    intents = Intents(app)
    intents.subscribe(on_change)
    scheduler = PollScheduler(intents, interval=5)
    scheduler.start()
    assert done.wait(timeout=30), "both connectors polled once at start"
    scheduler.shutdown()
    assert not scheduler.running
    assert {r.connector for r in seen} == {GMAIL, CALENDAR} and all(r.succeeded for r in seen)
    for thread in threading.enumerate():
        if thread.ident not in before and thread.name.startswith("cycle-"):
            thread.join(timeout=5)  # finished its work; only its last instructions may remain
    leftover = [t for t in threading.enumerate() if t.ident not in before and t.is_alive()]
    assert leftover == [], leftover


class ScriptedBrowser:
    """Stands in for `webbrowser.get()`: does with the sign-in link what a test scripts."""

    def __init__(self, act):
        self.act = act

    def open(self, url, new=0, autoraise=True):
        threading.Thread(target=self.act, args=(url,), daemon=True).start()
        return True


def sign_in_with(monkeypatch, app, act, timeout=10):
    import webbrowser

    from skytwin_desktop.connectors.oauth import ClientSecrets, sign_in

    monkeypatch.setattr(webbrowser, "get", lambda *a, **k: ScriptedBrowser(act))
    return sign_in(GMAIL, ClientSecrets.load(app.config.google_client_secrets), app.connectors.endpoints,
                   timeout=timeout)


def redirect_target(url: str) -> str:
    """Ask the sandbox for consent without following its redirect."""
    import urllib.request

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        opener.open(url, timeout=10)
    except urllib.error.HTTPError as exc:
        return exc.headers["Location"]
    raise AssertionError("expected a redirect")


def visit(url: str) -> None:
    import urllib.request

    with contextlib.suppress(OSError):
        urllib.request.urlopen(url, timeout=10).read()


def test_abandoned_sign_in_times_out_clearly(google, app, monkeypatch):
    from skytwin_desktop.connectors.oauth import SignInError

    with pytest.raises(SignInError, match="not finished within 2 seconds"):
        sign_in_with(monkeypatch, app, lambda url: None, timeout=2)


def test_sign_in_with_a_forged_state_is_refused(google, app, monkeypatch):
    import urllib.error  # noqa: F401 - used by redirect_target

    from skytwin_desktop.connectors.oauth import SignInError

    def forge(url):
        target = redirect_target(url)
        visit(target.replace("state=", "state=forged"))

    with pytest.raises(SignInError, match="not for the sign-in it asked for"):
        sign_in_with(monkeypatch, app, forge)
    assert google.token_requests() == 0, "no code was exchanged"


def test_sign_in_refused_by_the_person_says_so(google, app, monkeypatch):
    from urllib.parse import parse_qs, urlsplit

    from skytwin_desktop.connectors.oauth import SignInError

    def deny(url):
        query = parse_qs(urlsplit(url).query)
        visit(f"{query['redirect_uri'][0]}?error=access_denied&state={query['state'][0]}")

    with pytest.raises(SignInError, match=r"access was declined on Google.s page"):
        sign_in_with(monkeypatch, app, deny)


def test_no_usable_keyring_stops_connect_before_the_browser(google, monkeypatch):
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    done = cli("connect", "gmail")
    assert done.returncode == 4
    assert done.stderr.count("\n") == 1 and "keyring" in done.stderr
    assert not any(p == "/o/oauth2/auth" for _, p, _ in google.requests), "the browser was never opened"
    assert status()["connectors"]["gmail"]["status"] == "disabled"


def test_backoff_is_respected_by_a_separate_process(google):
    connect(GMAIL)
    google.fail_next("/gmail/v1", 503, count=3)
    real_time = build_context(Config.from_env())  # the other process runs on the real clock too
    for _ in range(3):
        real_time.connectors.poll(GMAIL)
    real_time.close()
    requests_before = len(google.requests)
    done = cli("poll-once")
    assert done.returncode == 1 and "Gmail: waiting before trying again" in done.stdout
    assert len(google.requests) == requests_before


def test_insecure_transport_is_allowed_only_for_a_loopback_root(monkeypatch, clock):
    import os

    monkeypatch.setenv("SKYTWIN_GOOGLE_API_ROOT", "https://google-proxy.example")
    build_context(Config.from_env(), clock=clock).close()
    assert "OAUTHLIB_INSECURE_TRANSPORT" not in os.environ
    monkeypatch.setenv("SKYTWIN_GOOGLE_API_ROOT", "http://127.0.0.1:9")
    build_context(Config.from_env(), clock=clock).close()
    assert os.environ["OAUTHLIB_INSECURE_TRANSPORT"] == "1"


def test_demo_runs_against_the_built_in_sandbox_with_throwaway_data(tmp_path, monkeypatch):
    import tempfile

    monkeypatch.delenv("SKYTWIN_DATA_DIR")
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    done = cli("--demo", "connect", "calendar")
    assert done.returncode == 0, done.stderr
    assert "Calendar connected." in done.stdout
    assert list((tmp_path / "tmp").iterdir()) == [], "the throwaway data folder is removed afterwards"
    assert tempfile.gettempdir()  # (the test's own temp dir is untouched)

    monkeypatch.setenv("SKYTWIN_DATA_DIR", str(tmp_path / "kept"))
    done = cli("--demo", "connect", "gmail")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "kept" / "skytwin.db").is_file(), "a data dir the person set is used and kept"


class CountingKeyring(__import__("keyrings.alt.file", fromlist=["PlaintextKeyring"]).PlaintextKeyring):
    reads = 0

    def get_password(self, service, username):
        type(self).reads += 1
        return super().get_password(service, username)


def test_the_keyring_is_read_once_not_on_every_poll(google, clock):
    connect(GMAIL)
    CountingKeyring.reads = 0
    context = build_context(Config.from_env(), clock=clock, keyring_backend=CountingKeyring())
    try:
        for _ in range(4):
            assert context.connectors.poll(GMAIL).succeeded
        google.expire_access_tokens()  # a refresh uses the refresh token held in memory
        assert context.connectors.poll(GMAIL).succeeded
    finally:
        context.close()
    assert CountingKeyring.reads == 1


def test_a_crash_while_saving_a_poll_loses_nothing(google, app, monkeypatch):
    from skytwin_desktop.connectors import service as service_module

    connect(GMAIL)
    with app.session() as session:
        cursor_before = session.get(ConnectorCursor, (app.user_id, "gmail")).cursor
    new_id = google.deliver({"from": "Grace <grace@acme.example>", "to": "ada@example.com", "subject": "Lunch?",
                             "snippet": "Are you free", "labels": ["INBOX", "UNREAD"]})

    def crash(*args, **kwargs):
        raise RuntimeError("power cut while saving")

    original = service_module.record_health
    monkeypatch.setattr(service_module, "record_health", crash)
    with pytest.raises(RuntimeError):
        app.connectors.poll(GMAIL)
    monkeypatch.setattr(service_module, "record_health", original)
    with app.session() as session:
        assert session.get(ConnectorCursor, (app.user_id, "gmail")).cursor == cursor_before, "cursor not moved"
        assert session.get(SignalInboxRow, (app.user_id, "gmail", new_id)) is None
    report = app.connectors.poll(GMAIL)
    assert report.succeeded and report.signals == 1, "the next poll brings the message again"
    with app.session() as session:
        assert session.get(SignalInboxRow, (app.user_id, "gmail", new_id)) is not None


def test_only_connected_services_are_polled_so_an_idle_app_sleeps(google, app):
    """A service that is not connected, or must be reconnected first, has no job: no wake-ups."""
    intents = Intents(app)
    scheduler = PollScheduler(intents, interval=3600)
    intents.subscribe(lambda change: scheduler.sync())
    scheduler.start()
    try:
        jobs = lambda: sorted(job.id for job in scheduler._scheduler.get_jobs())  # noqa: E731
        assert jobs() == [], "nothing connected: nothing scheduled"
        intents.connect(GMAIL)
        assert jobs() == ["gmail"]
        google.revoke_grant("gmail.modify")
        google.expire_access_tokens()
        intents.poll(GMAIL)
        assert GMAIL not in intents.connected() and jobs() == [], "reconnect first"
        intents.connect(GMAIL)
        intents.connect(CALENDAR)
        assert jobs() == ["calendar", "gmail"]
        intents.disconnect(CALENDAR)
        assert jobs() == ["gmail"]
    finally:
        scheduler.shutdown()


def test_quitting_does_not_wait_for_a_request_in_flight(google, app):
    """Quit must be quick even mid-request: shutdown returns while the sandbox still holds the
    request, and the cut-short poll is not counted as Google's failure."""
    connect(GMAIL)
    google.stall_next("/gmail/v1/users/me/history", seconds=25)
    scheduler = PollScheduler(Intents(app), interval=5)
    scheduler.start()
    assert until(lambda: any(path.endswith("/history") for _, path, _ in google.requests)), \
        "the poll reaches Gmail's history at once"
    scheduler.shutdown()
    assert not scheduler.running
    (cycle,) = [t for t in threading.enumerate() if t.name == "cycle-gmail"]
    assert cycle.is_alive(), "shutdown returned while the request was still held by the sandbox"
    google.stop()  # the sandbox drops the held connection
    cycle.join(timeout=10)
    assert not cycle.is_alive()
    with app.session() as session:
        from skytwin_desktop.store.models import ConnectorBreaker
        breaker = session.get(ConnectorBreaker, (app.user_id, "gmail"))
    assert breaker is None or breaker.consecutive_failures == 0, "quitting is not Google failing"


def test_disconnect_while_offline_says_that_google_still_has_access(google, app):
    connect(GMAIL)
    google.stop()  # offline: the revoke cannot reach Google
    done = cli("disconnect", "gmail")
    assert done.returncode == 0
    assert done.stdout.strip() == ("Gmail disconnected on this computer, but Google could not be asked to revoke "
                                   "SkyTwin's access; remove it yourself at https://myaccount.google.com/permissions.")
    assert status()["connectors"]["gmail"]["status"] == "disabled", "forgotten here all the same"


def test_disconnect_after_the_person_revoked_at_google_says_access_is_gone(google, app):
    connect(GMAIL)
    google.revoke_grant()  # removed at Google already: the revoke answers invalid_token
    done = cli("disconnect", "gmail")
    assert done.returncode == 0 and done.stdout.strip() == "Gmail disconnected; access revoked at Google."


def page(url: str) -> str:
    """What the browser shows at `url` (error pages included)."""
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.read().decode()


@pytest.mark.parametrize("how, says", [
    ("forged", "This answer was not for the sign-in SkyTwin asked for, so it was refused. Nothing was connected."),
    ("denied", "The sign-in did not go ahead: access was declined on Google&#x27;s page. Nothing was connected."),
    ("allowed", "SkyTwin is connected to your Gmail"),
])
def test_the_browser_page_tells_the_truth(google, app, monkeypatch, how, says):
    """The page used to say "connected" for every answer, a refused or forged one too."""
    from urllib.parse import parse_qs, urlsplit

    from skytwin_desktop.connectors.oauth import SignInError

    shown = []

    def answer(url):
        query = parse_qs(urlsplit(url).query)
        if how == "denied":
            shown.append(page(f"{query['redirect_uri'][0]}?error=access_denied&state={query['state'][0]}"))
        elif how == "forged":
            shown.append(page(redirect_target(url).replace("state=", "state=forged")))
        else:
            shown.append(page(url))  # the sandbox consents and redirects back

    if how == "allowed":
        assert sign_in_with(monkeypatch, app, answer).refresh_token
    else:
        with pytest.raises(SignInError):
            sign_in_with(monkeypatch, app, answer)
    assert until(lambda: bool(shown), limit=10)
    assert says in shown[0]
    assert ("connected to your" in shown[0]) == (how == "allowed")


def test_with_no_browser_the_sign_in_address_and_the_wait_are_told(google, app, monkeypatch):
    import webbrowser

    from skytwin_desktop.connectors.oauth import ClientSecrets, SignInError, sign_in

    def no_browser(*_args, **_kwargs):
        raise webbrowser.Error("could not locate runnable browser")

    monkeypatch.setattr(webbrowser, "get", no_browser)
    told = []
    with pytest.raises(SignInError, match="not finished within 1 second"):
        sign_in(GMAIL, ClientSecrets.load(app.config.google_client_secrets), app.connectors.endpoints, timeout=1,
                tell=told.append)
    (message,) = told
    first, url = message.split("\n")
    assert first == ("Sign in to Google for Gmail in your browser (SkyTwin waits up to 1 second). "
                     "Open this address there:")
    assert url.startswith(f"{google.url}/o/oauth2/auth?") and "code_challenge=" in url
