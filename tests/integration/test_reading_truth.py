"""A connected service that is not being read is never shown as read: offline, Google answering
errors, a locked keyring, or a fault of ours each leave `connected` as it is and add what is true
besides (not reading since when, why in words, when it is tried again), in `status`, its JSON
and the tray; and the next good read clears it."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import keyring.backend
import keyring.errors
import pytest

from skytwin_desktop.composition import build_context
from skytwin_desktop.config import Config
from skytwin_desktop.domain import Connector, HealthStatus, ReadProblem
from skytwin_desktop.intents import Intents
from skytwin_desktop.outcomes import PollOutcome as Outcome
from skytwin_desktop.ui.state import TrayIcon, tray_state
from tests.support.stamps import ISO_UTC

pytestmark = pytest.mark.slow  # starts processes

GMAIL, CALENDAR = Connector.GMAIL, Connector.CALENDAR


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "skytwin_desktop", *args], capture_output=True, text=True,
                          timeout=120)


@pytest.fixture
def app(google, clock):
    context = build_context(Config.from_env(), clock=clock)
    yield context
    context.close()


def report(app):
    return Intents(app).report()


def test_offline_is_shown_as_not_reading_with_since_why_and_retry(google):
    for connector in ("gmail", "calendar"):
        assert run("connect", connector).returncode == 0
    google.stop()  # Google unreachable
    polled = run("poll-once")
    assert polled.returncode == 1 and "unexpected" not in polled.stderr
    status = json.loads(run("status", "--json").stdout)
    for name in ("gmail", "calendar"):
        state = status["connectors"][name]
        assert state["status"] == "connected", "the sign-in is fine; connector_health stays as it is"
        assert state["reading"] is False
        assert state["problem"]["code"] == "unreachable"
        assert "could not be reached" in state["problem"]["text"]
        assert ISO_UTC.match(state["failing_since"]) and ISO_UTC.match(state["retry_at"])
        assert state["retry_at"] > state["failing_since"]
    table = run("status").stdout
    assert re.search(r"Not reading Gmail (for|since) [^:]+: .*could not be reached", table) and "trying again" in table
    assert not re.search(r"\d{4}-\d\d-\d\dT", table), "local, worded times in the table (JSON keeps ISO)"


def test_the_tray_never_says_listening_while_a_connected_service_is_not_read(app, google):
    app.connectors.connect(GMAIL)
    assert tray_state(report(app)).tooltip == "SkyTwin — listening to Gmail"
    google.fail_next("/gmail", 503, count=5)
    assert app.connectors.poll(GMAIL).outcome is Outcome.TRANSIENT_FAILURE
    state = tray_state(report(app))
    assert state.icon is TrayIcon.NOT_READING
    assert "listening" not in state.tooltip
    assert state.tooltip.startswith("SkyTwin — not reading Gmail")
    assert [banner.kind for banner in state.banners] == ["not-reading"]
    assert "Google answers with errors" in state.banners[0].text


def test_the_next_good_read_clears_it_and_keeps_when_it_started(app, google, clock):
    app.connectors.connect(GMAIL)
    google.fail_next("/gmail", 503, count=2)
    app.connectors.poll(GMAIL)
    first = report(app).connectors[GMAIL]
    assert first.problem is ReadProblem.GOOGLE_ERRORS and first.failing_since == clock()
    clock.advance(minutes=1)
    app.connectors.poll(GMAIL)
    second = report(app).connectors[GMAIL]
    assert second.failing_since == first.failing_since, "since the first failure, not the latest"
    assert second.retry_at == clock() + app.connectors.interval
    clock.advance(minutes=1)
    assert app.connectors.poll(GMAIL).succeeded
    healed = report(app).connectors[GMAIL]
    assert healed.reading and healed.problem is None and healed.failing_since is None
    assert tray_state(report(app)).icon is TrayIcon.LISTENING


def test_a_backoff_says_when_it_tries_again(app, google, clock):
    app.connectors.connect(GMAIL)
    google.fail_next("/gmail", 503, count=3)
    for _ in range(3):
        app.connectors.poll(GMAIL)
    state = report(app).connectors[GMAIL]
    assert state.retry_at is not None and state.retry_at >= clock() + app.connectors.interval * 4
    assert app.connectors.poll(GMAIL).outcome is Outcome.BACKING_OFF
    assert report(app).connectors[GMAIL].retry_at == state.retry_at


class LockedAfterConnecting(keyring.backend.KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self):
        super().__init__()
        self.items, self.locked = {}, False

    def get_password(self, service, username):
        if self.locked:
            raise keyring.errors.KeyringLocked("locked")
        return self.items.get((service, username))

    def set_password(self, service, username, password):
        self.items[(service, username)] = password

    def delete_password(self, service, username):
        self.items.pop((service, username), None)


def test_a_locked_keyring_is_shown_with_the_fix(google, clock):
    backend = LockedAfterConnecting()
    context = build_context(Config.from_env(), clock=clock, keyring_backend=backend)
    try:
        context.connectors.connect(CALENDAR)
        context.connectors.close()  # a restart: the token must be read from the keyring again
        backend.locked = True
        assert context.connectors.poll(CALENDAR).outcome is Outcome.KEYRING_ERROR
        state = report(context).connectors[CALENDAR]
        assert state.status is HealthStatus.CONNECTED and not state.reading
        assert state.problem is ReadProblem.KEYRING_LOCKED
        assert "Unlock" in (state.problem_text or "")
        tray = tray_state(report(context))
        assert tray.icon is TrayIcon.NOT_READING and "listening" not in tray.tooltip
        backend.locked = False
        assert context.connectors.poll(CALENDAR).succeeded
        assert report(context).connectors[CALENDAR].reading
    finally:
        context.close()


def test_a_fault_of_ours_on_an_odd_answer_is_shown_not_an_unexpected_error(google):
    assert run("connect", "gmail").returncode == 0
    google.fail_next("/gmail/v1/users/me/history", 200, body={"history": 7, "historyId": "99"}, count=3)
    polled = run("poll-once")
    assert "unexpected error" not in polled.stderr and polled.returncode == 1
    state = json.loads(run("status", "--json").stdout)["connectors"]["gmail"]
    assert state["reading"] is False and state["problem"]["code"] in ("google_errors", "internal_error")


def test_a_polls_result_is_announced_before_the_twin_works_on_it(app, google):
    """The tray shows each connector's result as soon as its poll ends, not after the whole pass."""
    from skytwin_desktop.scheduler import PollScheduler

    app.connectors.connect(GMAIL)
    intents = Intents(app)
    seen = []
    intents.subscribe(lambda change: seen.append((change.what, change.poll and change.poll.connector)))
    google.fail_next("/gmail", 503)
    PollScheduler(intents, interval=60).cycle(GMAIL)
    assert seen[0] == ("poll", GMAIL) and seen[-1] == ("batch", None), seen


def test_the_windows_say_what_is_not_read_and_what_was_set_aside(app, google, qtbot):
    from skytwin_desktop.ui.settings_window import SettingsWindow
    from skytwin_desktop.ui.tray import TrayController

    app.connectors.connect(GMAIL)
    google.fail_next("/gmail", 503)
    app.connectors.poll(GMAIL)
    intents = Intents(app)
    settings = SettingsWindow(intents.save_setting, intents.paths)
    qtbot.addWidget(settings)
    controller = TrayController(intents.report, settings=lambda: settings)
    qtbot.addWidget(controller.window)
    controller.open_settings_window()
    connector_text = settings.connector_rows[GMAIL][0].text()
    assert connector_text.startswith("Gmail: connected\nNot reading Gmail for a moment: ")
    assert "Google answers with errors (HTTP 503)" in connector_text
    row = controller.window.rows[GMAIL][0].text()
    assert "Not reading Gmail for a moment" in row and "trying again in" in row
    controller.shutdown()


def test_a_long_twin_pass_shows_its_new_approvals_before_it_ends(app, google, clock):
    """The twin's pass announces each decided chunk and each action, not only its end."""
    from skytwin_desktop.domain import TrustTier
    from skytwin_desktop.store.policy import set_tier

    app.connectors.connect(GMAIL)
    intents = Intents(app)
    intents.process_inbox()
    with app.session() as session:  # newsletters are archived alone; questions wait for the person
        set_tier(session, app.user_id, TrustTier.LOW_AUTONOMY, reason="test", by_person=True, now=clock())
    for n in range(3):
        google.deliver({"from": "digest@news.example", "subject": f"Issue {n}",
                        "headers": {"List-Unsubscribe": "<mailto:x@news.example>"}})
    google.deliver({"from": "grace@people.example", "to": "ada@example.com", "subject": "Lunch on Friday?"})
    assert app.connectors.poll(GMAIL).signals == 4
    before = intents.report().pending_approvals
    seen = []
    intents.subscribe(lambda change: seen.append((change.what, intents.report().pending_approvals)))
    batch = intents.process_inbox()
    assert batch.executed == 3 and batch.queued == 1
    kinds = [what for what, _ in seen]
    assert kinds[-1] == "batch" and kinds.count("twin") >= 4, "after the chunk, then after each action"
    assert seen[0] == ("twin", before + 1), "the new approval shows before the actions run"
