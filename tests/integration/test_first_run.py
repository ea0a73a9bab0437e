"""A first run that guides, and sign-ins with feedback: with nothing connected the tray says so and
the dashboard (and one notification) offers Connect Gmail / Connect Calendar / Try the demo; while
a sign-in waits in the browser, the tray, its menu and the windows say so, with Copy sign-in link
and Cancel. Driven through the real sign-in code against the local Google sandbox."""

from __future__ import annotations

import threading
import webbrowser

import pytest
from PySide6.QtWidgets import QApplication

from skytwin_desktop.composition import build_context
from skytwin_desktop.config import Config
from skytwin_desktop.connectors.oauth import SignInCancelled
from skytwin_desktop.domain import Connector
from skytwin_desktop.intents import Intents
from skytwin_desktop.ui.state import TrayIcon
from skytwin_desktop.ui.tray import TRY_DEMO, TrayController
from tests.support.tray import Bridge, RecordingNotifier

GMAIL, CALENDAR = Connector.GMAIL, Connector.CALENDAR


class IdleBrowser:
    """A browser that opens nothing: the person has not signed in yet."""

    def open(self, url, new=0, autoraise=True):
        return False


@pytest.fixture
def app(google):
    context = build_context(Config.from_env())
    intents = Intents(context)
    intents.running = True
    yield intents
    intents.close()


@pytest.fixture
def tray(qtbot, app):
    actions: list[tuple[Connector, str]] = []
    notifier = RecordingNotifier()
    controller = TrayController(app.report, connector_action=lambda c, verb: actions.append((c, verb)),
                                notifier=notifier)
    qtbot.addWidget(controller.window)
    controller.actions, controller.fake_notifier = actions, notifier
    yield controller
    controller.shutdown()


def test_a_first_run_says_not_connected_and_offers_connect_and_the_demo(tray, qtbot):
    demo = []
    tray.try_demo = lambda: demo.append(True)
    assert tray.state.icon is TrayIcon.NOT_READING and "not connected to Google" in tray.tray.toolTip()
    assert "listening" not in tray.tray.toolTip()
    tray.welcome()
    window = tray.window
    assert window.isVisible(), "the first run opens the window that guides"
    for connector in (GMAIL, CALENDAR):
        text, main, cancel = window.rows[connector]
        assert "Not connected" in text.text() and main.text() == f"Connect {connector.display_name}"
        assert main.isVisible()
        assert not cancel.isVisible()
    assert window.demo_box.isVisible()
    window.rows[CALENDAR][1].click()
    window.demo_button.click()
    assert tray.actions == [(CALENDAR, "connect")] and demo == [True]
    ((tag, _title, _body, actions),) = tray.fake_notifier.shown
    assert tag == "welcome" and [key for key, _ in actions] == ["connect-gmail", "connect-calendar", TRY_DEMO]
    tray.notification_action("connect-gmail", "welcome")
    tray.notification_action(TRY_DEMO, "welcome")
    assert tray.actions[-1] == (GMAIL, "connect") and demo == [True, True]


@pytest.mark.slow
def test_no_welcome_once_something_is_connected(tray, app, google):
    app.context.connectors.connect(GMAIL)
    tray.refresh()
    tray.welcome()
    assert not tray.window.isVisible() and tray.fake_notifier.shown == []
    assert not tray.window.demo_box.isVisible()


def test_a_waiting_sign_in_shows_everywhere_with_copy_link_and_cancel(tray, app, qtbot, monkeypatch):
    monkeypatch.setattr(webbrowser, "get", lambda *a, **k: IdleBrowser())
    told: list[str] = []
    ended: list[BaseException | None] = []
    bridge = Bridge(tray)  # as the composition root wires it: queued to the GUI thread
    app.subscribe(bridge.changed.emit)

    def connect() -> None:
        try:
            app.connect(GMAIL, tell=told.append)
            ended.append(None)
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            ended.append(exc)

    worker = threading.Thread(target=connect, daemon=True)
    worker.start()
    qtbot.waitUntil(lambda: bool(tray.report.signing_in), timeout=10_000)
    (wait,) = tray.report.signing_in
    assert wait.connector is GMAIL and wait.url.startswith(app.context.config.google_api_root)
    assert told and wait.url in told[0] and "waits up to 5 minutes" in told[0], "the address is always printed"
    assert "waiting for you to sign in to Gmail in your browser" in tray.tray.toolTip()
    menu = [action.text() for action in tray.menu.actions()]
    assert "Copy Gmail sign-in link" in menu and "Cancel Gmail sign-in" in menu
    text, main, cancel = tray.window.rows[GMAIL]
    assert "Waiting for you to sign in" in text.text() and main.text() == "Copy sign-in link"
    assert not cancel.isHidden() and "stops waiting in 5 min" in text.text()
    main.click()
    assert QApplication.clipboard().text() == wait.url
    assert app.report().to_json()["signing_in"][0]["url"] == wait.url, "status --json says so too"

    assert app.cancel_sign_in(GMAIL)
    worker.join(timeout=10)
    assert not worker.is_alive() and isinstance(ended[0], SignInCancelled)
    assert "cancelled" in str(ended[0])
    qtbot.waitUntil(lambda: not tray.report.signing_in, timeout=5_000)
    assert "waiting for you" not in tray.tray.toolTip() and "not connected to Google" in tray.tray.toolTip()
    assert not app.cancel_sign_in(GMAIL), "nothing waits any more"


def test_cancel_in_the_window_and_the_menu_reaches_the_worker(tray, app, qtbot, monkeypatch):
    monkeypatch.setattr(webbrowser, "get", lambda *a, **k: IdleBrowser())
    bridge = Bridge(tray)  # as the composition root wires it: queued to the GUI thread
    app.subscribe(bridge.changed.emit)
    ended: list[str] = []

    def connect() -> None:
        with pytest.raises(SignInCancelled):
            app.connect(GMAIL)
        ended.append("cancelled")

    worker = threading.Thread(target=connect, daemon=True)
    worker.start()
    qtbot.waitUntil(lambda: bool(tray.report.signing_in), timeout=10_000)
    tray.window.rows[GMAIL][2].click()
    _copy, cancel = tray.sign_in_actions[GMAIL]
    cancel.trigger()
    assert tray.actions == [(GMAIL, "cancel"), (GMAIL, "cancel")]
    app.cancel_sign_in(GMAIL)
    worker.join(timeout=10)
    assert not worker.is_alive() and ended == ["cancelled"]
