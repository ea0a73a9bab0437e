"""The tray: icon, words and menu for each state, banners, the re-auth notification once per
transition, the pause window, and background results arriving on the GUI thread only."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import Qt, QThread
from PySide6.QtWidgets import QApplication, QWidget

from skytwin_desktop.domain import Connector, HealthStatus
from skytwin_desktop.status import ConnectorState, StatusReport
from skytwin_desktop.ui.background import Background
from skytwin_desktop.ui.pause_dialog import PAUSE_QUESTION, RESUME_QUESTION, PauseDialog
from skytwin_desktop.ui.state import NOT_CONNECTED, PauseItem, ReauthNotices, TrayIcon, tray_state
from skytwin_desktop.ui.tray import TrayController, icon_for
from tests.support.tray import Bridge, RecordingNotifier


def report(*, user_paused=False, operator_paused=False, gmail=HealthStatus.CONNECTED,
           calendar=HealthStatus.CONNECTED, gmail_code=None, approvals=0, reason=None) -> StatusReport:
    return StatusReport(
        user_id=1, email=None, trust_tier="observer", operator_paused=operator_paused, user_paused=user_paused,
        paused_at=None, paused_reason=reason, pending_approvals=approvals,
        connectors={Connector.GMAIL: ConnectorState(gmail, gmail_code), Connector.CALENDAR: ConnectorState(calendar)},
    )


def test_state_words_and_icons():
    assert tray_state(report()).icon is TrayIcon.LISTENING
    assert tray_state(report()).tooltip == "SkyTwin — listening to Gmail and Calendar"
    assert tray_state(report(user_paused=True)).tooltip == "SkyTwin — paused by you"
    assert tray_state(report(user_paused=True)).icon is TrayIcon.PAUSED
    operator = tray_state(report(user_paused=True, operator_paused=True))
    assert operator.icon is TrayIcon.PAUSED and operator.tooltip == "SkyTwin — paused by your administrator"
    broken = tray_state(report(gmail=HealthStatus.NEEDS_REAUTH, user_paused=True))
    assert broken.icon is TrayIcon.ATTENTION_PAUSED, "a pause badge on the amber icon"
    assert broken.tooltip == "SkyTwin — Gmail needs reconnecting; paused by you"
    both = tray_state(report(gmail=HealthStatus.NEEDS_REAUTH, calendar=HealthStatus.NEEDS_REAUTH))
    assert both.icon is TrayIcon.ATTENTION and both.tooltip == "SkyTwin — Gmail and Calendar need reconnecting"
    failing = tray_state(report(gmail=HealthStatus.NEEDS_REAUTH), problem="the keyring is locked")
    assert failing.icon is TrayIcon.ERROR and failing.tooltip.startswith("SkyTwin — the keyring is locked")


@pytest.mark.parametrize("code, words", [
    ("invalid_grant", "Google access was revoked or expired"),
    ("unauthorized_client", "the app's Google sign-in is misconfigured"),
    ("invalid_client", "the app's Google sign-in is misconfigured"),
    ("insufficient_scope", "SkyTwin is missing a Google permission"),
    (None, "Google sign-in stopped working"),
])
def test_reauth_banner_copy_by_error_code(code, words):
    (banner,) = tray_state(report(gmail=HealthStatus.NEEDS_REAUTH, gmail_code=code)).banners
    assert banner.kind == "reauth" and banner.connector is Connector.GMAIL
    assert banner.text == f"Gmail disconnected ({words}). Your twin has stopped reading Gmail. Reconnect to resume."


def test_pause_and_reauth_banners_stack():
    banners = tray_state(report(user_paused=True, reason="Travelling", gmail=HealthStatus.NEEDS_REAUTH)).banners
    assert [b.kind for b in banners] == ["pause", "reauth"]
    assert "Travelling" in banners[0].text


def test_notification_once_per_transition():
    notices = ReauthNotices()
    broken, fine = report(gmail=HealthStatus.NEEDS_REAUTH, gmail_code="invalid_grant"), report()
    shown, closed = notices.update(broken)
    assert [c for c, _ in shown] == [Connector.GMAIL] and closed == []
    assert notices.update(broken) == ([], []), "never again on every poll"
    assert notices.update(fine) == ([], [Connector.GMAIL]), "closed when connected again"
    assert [c for c, _ in notices.update(broken)[0]] == [Connector.GMAIL], "a new transition notifies again"


def test_every_icon_loads(qapp):
    for name in TrayIcon:
        icon = icon_for(name)
        assert not icon.isNull(), name
        assert not icon.pixmap(64, 64).isNull(), name


class Source:
    def __init__(self, value):
        self.value = value

    def __call__(self):
        return self.value


def menu_texts(controller):
    return [a.text() for a in controller.menu.actions() if a.text()]


def test_menu_follows_the_state(qtbot):
    source = Source(report(approvals=3))
    controller = TrayController(source, notifier=RecordingNotifier())
    qtbot.addWidget(controller.window)
    assert menu_texts(controller) == ["SkyTwin — listening to Gmail and Calendar", "&Pause now…", "Approvals (3)",
                                      "Show &status…", "&Settings…", "&Quit"]
    source.value = report(user_paused=True, gmail=HealthStatus.NEEDS_REAUTH)
    controller.refresh()
    assert "&Resume…" in menu_texts(controller)
    assert "Reconnect Gmail" in menu_texts(controller) and "Reconnect Calendar" not in menu_texts(controller)
    source.value = report(user_paused=True, operator_paused=True)
    controller.refresh()
    assert controller.state.pause_item is PauseItem.OPERATOR
    assert not controller.pause_action.isEnabled() and "administrator" in controller.pause_action.text()
    assert "&Resume…" not in menu_texts(controller), "resume only for the person's own pause"
    controller.shutdown()


def test_a_refresh_that_changes_nothing_makes_nothing_anew(qtbot):
    """A poll every few minutes for months: an unchanged state keeps the icon it shows (a new QIcon
    each time would fill Qt's pixmap cache with renderings of the same picture) and the banners it
    shows (new ones each time leaked their connections)."""
    source = Source(report(user_paused=True, gmail=HealthStatus.NEEDS_REAUTH))
    controller = TrayController(source, notifier=RecordingNotifier())
    qtbot.addWidget(controller.window)
    icon, banners = controller.tray.icon().cacheKey(), list(controller.window.banners)
    assert len(banners) == 2
    for _ in range(3):
        controller.refresh()
        assert controller.tray.icon().cacheKey() == icon
        assert controller.window.banners == banners
    source.value = report(user_paused=True)
    controller.refresh()
    assert [b.banner.kind for b in controller.window.banners] == ["pause"]
    source.value = report()
    controller.refresh()
    assert controller.tray.icon().cacheKey() != icon and controller.window.banners == []
    controller.shutdown()


def test_revoke_shows_amber_one_notification_and_a_banner_then_clears(qtbot):
    notifier = RecordingNotifier()
    source = Source(report())
    reconnects = []
    controller = TrayController(source, notifier=notifier, reconnect=reconnects.append)
    qtbot.addWidget(controller.window)
    source.value = report(gmail=HealthStatus.NEEDS_REAUTH, gmail_code="invalid_grant")
    for _ in range(3):  # three polls while broken
        controller.refresh()
    assert controller.tray.toolTip() == "SkyTwin — Gmail needs reconnecting"
    assert controller.state.icon is TrayIcon.ATTENTION
    assert len(notifier.shown) == 1
    tag, _summary, body, actions = notifier.shown[0]
    assert tag == "reauth-gmail" and actions == (("reconnect", "Reconnect Gmail"),)
    assert "Google access was revoked or expired" in body
    assert [b.objectName() for b in controller.window.banners] == ["banner-reauth"]
    controller.notification_action("reconnect", "reauth-gmail")
    controller.window.banners[0].findChild(type(controller.window.pause_button), "reconnect-gmail").click()
    assert reconnects == [Connector.GMAIL, Connector.GMAIL], "the notification and the banner both reconnect"
    source.value = report()
    controller.refresh()
    assert notifier.closed == ["reauth-gmail"], "the app closes its own notification"
    assert controller.window.banners == [] and controller.state.icon is TrayIcon.LISTENING
    controller.shutdown()


def test_the_pause_window_is_the_one_confirmation_of_both_transitions(qtbot):
    """It asks the question itself: its one button pauses (with the reason) or resumes."""
    dialog = PauseDialog(report())
    qtbot.addWidget(dialog)
    assert dialog.question.text() == PAUSE_QUESTION and dialog.toggle.text() == "&Pause now"
    dialog.reason.setPlainText("Travelling")
    with qtbot.waitSignal(dialog.pause_requested) as blocker:
        dialog.toggle.click()
    assert blocker.args == ["Travelling"] and dialog.result() == 1
    resume = PauseDialog(report(user_paused=True, reason="Travelling"))
    qtbot.addWidget(resume)
    assert resume.question.text() == RESUME_QUESTION and resume.toggle.text() == "&Resume"
    assert not resume.reason.isVisible()
    with qtbot.waitSignal(resume.resume_requested):
        resume.toggle.click()


def test_pause_window_cancel_and_escape_change_nothing(qtbot):
    dialog = PauseDialog(report())
    qtbot.addWidget(dialog)
    with qtbot.assertNotEmitted(dialog.pause_requested):
        dialog.show()
        dialog.buttons.button(dialog.buttons.StandardButton.Cancel).click()
        dialog.show()
        qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert not dialog.isVisible() and dialog.result() == 0


def test_the_panic_button_is_two_clicks_from_the_menu(qtbot, context):
    from skytwin_desktop.intents import Intents

    intents = Intents(context)
    controller = TrayController(intents.report, set_pause=intents.set_pause, notifier=RecordingNotifier())
    qtbot.addWidget(controller.window)
    controller.pause_action.trigger()  # the menu's "Pause now…"
    controller.pause_dialog.toggle.click()  # its confirmation
    assert intents.report().user_paused and controller.state.pause_item is PauseItem.RESUME
    controller.pause_action.trigger()  # "Resume…"
    controller.pause_dialog.toggle.click()
    assert not intents.report().user_paused
    controller.shutdown()


def test_pause_reason_longer_than_500_cannot_be_saved(qtbot):
    dialog = PauseDialog(report())
    qtbot.addWidget(dialog)
    dialog.reason.setPlainText("x" * 501)
    assert not dialog.toggle.isEnabled() and dialog.counter.text() == "501 / 500"
    dialog.reason.setPlainText("x" * 500)
    assert dialog.toggle.isEnabled()


def test_background_results_reach_widgets_on_the_gui_thread_only(qtbot):
    background = Background()
    threads, workers = [], []
    gui = QApplication.instance().thread()

    def work():
        workers.append(threading.current_thread())
        return "done"

    background.run("test", work, lambda _result: threads.append(QThread.currentThread()))
    qtbot.waitUntil(lambda: bool(threads), timeout=2000)
    assert threads == [gui] and workers[0] is not threading.main_thread()


def test_no_tray_shows_the_status_window_and_keeps_looking(qtbot):
    controller = TrayController(Source(report(user_paused=True)), notifier=RecordingNotifier())
    qtbot.addWidget(controller.window)
    controller.place()
    from PySide6.QtWidgets import QSystemTrayIcon

    if QSystemTrayIcon.isSystemTrayAvailable():
        assert controller.tray.isVisible() and not controller.window.isVisible()
    else:
        assert controller.window.isVisible() and "no system tray" in controller.window.note.text()
        assert controller.recheck.isActive()
    controller.shutdown()
    assert not controller.window.isVisible() and not controller.recheck.isActive()


@pytest.mark.slow
def test_the_app_starts_and_quits_cleanly(tmp_path):
    """Started for real (offscreen), then asked to quit as a logout would: it stops polling and exits."""
    import os

    from tests.support.app_process import app_process, quit_app, until

    log = tmp_path / "data" / "logs" / "skytwin.log"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "SKYTWIN_POLL_INTERVAL": "5"}
    with app_process(env) as app:
        assert until(lambda: log.exists() and "Tray started" in log.read_text(), limit=60)
        assert quit_app(app) == 0, app.stderr.read()
    text = log.read_text()
    assert "Polling stopped" in text
    assert "Traceback" not in text


def test_pausing_from_the_pause_window_escalates_the_very_next_decision(qtbot, context, monkeypatch):
    from skytwin_desktop.intents import Intents
    from skytwin_desktop.store.policy import SettingsCache
    from tests.policy_helpers import action, risk

    intents = Intents(context)
    controller = TrayController(intents.report, set_pause=intents.set_pause, notifier=RecordingNotifier())
    qtbot.addWidget(controller.window)
    cache = SettingsCache(context.user_id)

    def decide():
        with context.session() as session:
            return context.gate.decide(session, context.user_id, action(), settings=cache.current(session),
                                       trust_tier="high_autonomy", risk=risk(), now=context.clock()).decision

    assert decide().auto_execute
    controller.open_pause_window()
    dialog = controller.pause_dialog
    dialog.reason.setPlainText("Board meeting all day")
    dialog.toggle.click()
    paused = decide()
    assert (paused.requires_approval, paused.reason_code) == (True, "user_paused")
    assert "Board meeting all day" in paused.message
    assert controller.state.pause_item is PauseItem.RESUME and "paused by you" in controller.tray.toolTip()
    controller.open_pause_window()
    controller.pause_dialog.toggle.click()
    assert decide().auto_execute, "resumed: the next decision runs by itself again"
    controller.shutdown()


def test_operator_pause_disables_resume_in_the_pause_window(qtbot):
    dialog = PauseDialog(report(operator_paused=True, user_paused=True))
    qtbot.addWidget(dialog)
    assert "Only the administrator" in dialog.operator_line.text()
    assert "You: paused" in dialog.person_line.text()


def test_a_failed_sign_in_leaves_the_warning_up(qtbot):
    notifier = RecordingNotifier()
    controller = TrayController(Source(report(gmail=HealthStatus.NEEDS_REAUTH, gmail_code="invalid_grant")),
                                notifier=notifier)
    qtbot.addWidget(controller.window)
    controller.background_failed("Google sign-in for Gmail was not finished within 300 seconds.")
    assert controller.state.icon is TrayIcon.ATTENTION
    assert [b.banner.kind for b in controller.window.banners] == ["reauth"]
    assert notifier.closed == [] and len(notifier.shown) == 1, "still up, and not shown twice"
    controller.shutdown()


def test_a_change_through_the_facade_from_another_thread_reaches_the_tray_at_once(qtbot, context):
    """No waiting for the next poll: the façade announces the change, the tray shows it."""
    from skytwin_desktop.intents import Intents

    intents = Intents(context)
    controller = TrayController(intents.report, notifier=RecordingNotifier())
    qtbot.addWidget(controller.window)
    bridge = Bridge(controller)
    intents.subscribe(bridge.changed.emit)
    assert controller.state.pause_item is PauseItem.PAUSE
    worker = threading.Thread(target=lambda: intents.set_pause(True, "from a terminal"))
    worker.start()
    worker.join(timeout=30)
    qtbot.waitUntil(lambda: controller.state.pause_item is PauseItem.RESUME, timeout=2000)
    assert "paused by you" in controller.tray.toolTip()
    controller.shutdown()


@pytest.mark.slow
def test_many_new_approvals_in_one_poll_make_one_notification(qtbot, google, monkeypatch):
    """A poll that queues many actions is announced once, not per action; its button opens Approvals."""
    from skytwin_desktop.clock import utc_now
    from skytwin_desktop.composition import build_context
    from skytwin_desktop.config import Config
    from skytwin_desktop.intents import Intents
    from skytwin_desktop.scheduler import PollScheduler
    from skytwin_desktop.ui.approvals_window import ApprovalsWindow
    from skytwin_desktop.ui.notify import OPEN_APPROVALS

    context = build_context(Config.from_env(), clock=utc_now)
    try:
        context.connectors.connect(Connector.GMAIL)
        context.twin.process_inbox()  # the sample mailbox's first sync, announced or not
        intents = Intents(context)
        notifier = RecordingNotifier()
        window = ApprovalsWindow(intents)
        qtbot.addWidget(window)
        controller = TrayController(intents.report, notifier=notifier, approvals=lambda: window)
        qtbot.addWidget(controller.window)
        bridge = Bridge(controller)
        intents.subscribe(bridge.changed.emit)
        for n in range(5):
            google.deliver({"from": "digest@news.example", "subject": f"Issue {n}",
                            "headers": {"List-Unsubscribe": "<mailto:x@news.example>"}})
        before = intents.pending()
        scheduler = PollScheduler(intents, interval=60)
        worker = threading.Thread(target=lambda: scheduler.cycle(Connector.GMAIL))
        worker.start()
        worker.join(timeout=30)
        qtbot.waitUntil(lambda: any(tag == "approvals" for tag, *_ in notifier.shown), timeout=10_000)
        shown = [entry for entry in notifier.shown if entry[0] == "approvals"]
        assert len(shown) == 1
        _, title, body, actions = shown[0]
        assert title == "5 actions wait for your approval" and "and 2 more" in body
        assert actions == ((OPEN_APPROVALS, "Open Approvals"),)
        assert len(intents.pending()) == len(before) + 5
        assert controller.approvals_action.text() == f"Approvals ({len(before) + 5})"
        controller.notification_action(OPEN_APPROVALS, "approvals")
        assert window.isVisible() and window.pending.count() == len(before) + 5
        controller.shutdown()
    finally:
        context.close()


def test_an_app_that_cannot_go_on_stops_acting_says_so_and_offers_a_restart(qtbot):
    from skytwin_desktop.errors import DatabaseGoneError

    notifier = RecordingNotifier()
    controller = TrayController(Source(report()), notifier=notifier)
    qtbot.addWidget(controller.window)
    stops, restarts = [], []
    controller.stop_acting = lambda: stops.append(1)
    controller.restart = lambda: restarts.append(1)
    assert "&Restart SkyTwin" not in menu_texts(controller)
    message = "The database /x/skytwin.db was deleted or replaced while SkyTwin was running"
    controller.failed(DatabaseGoneError(message))
    controller.failed(DatabaseGoneError(message))
    assert stops == [1], "stopped once"
    assert controller.state.icon is TrayIcon.ERROR
    assert controller.tray.toolTip() == "SkyTwin — stopped: its database was deleted or replaced"
    assert [(b.banner.kind, b.banner.text) for b in controller.window.banners] == [("error", message)]
    assert "&Restart SkyTwin" in menu_texts(controller)
    assert [(tag, actions) for tag, _, _, actions in notifier.shown] == [("stopped", (("restart", "Restart SkyTwin"),))]
    controller.refresh()
    assert controller.state.icon is TrayIcon.ERROR, "a later good read does not hide that it stopped"
    controller.notification_action("restart", "stopped")
    assert restarts == [1]
    controller.shutdown()


def test_a_busy_database_shows_in_the_tray_and_clears_when_it_answers(qtbot):
    from skytwin_desktop.errors import DatabaseBusyError

    answers = [report()]

    def source():
        if isinstance(answers[-1], Exception):
            raise answers[-1]
        return answers[-1]

    controller = TrayController(source, notifier=RecordingNotifier())
    qtbot.addWidget(controller.window)
    answers.append(DatabaseBusyError("The database is busy: another program holds it. Try again when it is done."))
    controller.refresh()
    assert controller.state.icon is TrayIcon.ERROR
    assert controller.tray.toolTip() == "SkyTwin — the database is busy (another program holds it)"
    assert "Try again when it is done" in controller.window.banners[0].banner.text
    answers.append(report(user_paused=True))
    controller.refresh()
    assert controller.state.icon is TrayIcon.PAUSED and "busy" not in controller.tray.toolTip()
    controller.shutdown()


def test_with_nothing_connected_the_tray_says_so_instead_of_listening():
    nothing = report(gmail=HealthStatus.DISABLED, calendar=HealthStatus.DISABLED)
    state = tray_state(nothing)
    assert state.tooltip == "SkyTwin — not connected to Google" and state.icon is TrayIcon.NOT_READING
    assert [(b.kind, b.text) for b in state.banners] == [("not-reading", NOT_CONNECTED)]
    paused = tray_state(report(gmail=HealthStatus.DISABLED, calendar=HealthStatus.DISABLED, user_paused=True))
    assert paused.tooltip == "SkyTwin — not connected to Google; paused by you"
    assert paused.icon is TrayIcon.NOT_READING_PAUSED
    one = tray_state(report(gmail=HealthStatus.DISABLED))
    assert one.tooltip == "SkyTwin — listening to Calendar", "one connected service is being read"


def test_the_demo_says_it_is_the_demo():
    state = tray_state(report(), demo=True)
    assert state.tooltip == "SkyTwin demo (a pretend Google account) — listening to Gmail and Calendar"
    assert tray_state(report()).tooltip.startswith("SkyTwin — ")


def test_garbage_is_collected_on_the_gui_thread_once_work_settles(qtbot):
    """Automatic collection is off (it could run on a worker thread and finalise Qt objects there);
    the tray collects after a burst of changes instead."""
    from skytwin_desktop.intents import Change

    controller = TrayController(Source(report()))
    qtbot.addWidget(controller.window)
    gone = cycle_garbage()
    assert gone() is not None, "a cycle waits for a collection"
    controller.changed(Change("poll", None, None))
    qtbot.waitUntil(lambda: gone() is None, timeout=10_000)
    controller.shutdown()


def test_garbage_is_collected_while_the_work_goes_on(qtbot):
    """Changes every half second (a long twin pass, a busy soak) must not put the collection off
    for as long as they last: the app grew by megabytes an hour that way."""
    from skytwin_desktop.intents import Change

    controller = TrayController(Source(report()))
    qtbot.addWidget(controller.window)
    gone = cycle_garbage()
    for _ in range(10):
        controller.changed(Change("poll", None, None))
        qtbot.wait(500)
        if gone() is None:
            break
    assert gone() is None, "collected within a few seconds of the first change, not after the last"
    controller.shutdown()


def cycle_garbage():
    """A weak reference to an object kept alive only by a reference cycle: it dies when, and only
    when, the cycle collector runs (automatic collection is off, as in the app)."""
    import gc
    import weakref

    class Cycle:
        pass

    assert not gc.isenabled()
    garbage = Cycle()
    garbage.me = garbage
    return weakref.ref(garbage)


def test_the_settings_and_approvals_windows_are_built_when_first_opened_and_then_kept(qtbot, context):
    """Most days nobody opens them: an app that runs for months builds them on demand, once, and the
    settings window shows the state as it is when it opens."""
    from skytwin_desktop.intents import Intents
    from skytwin_desktop.ui.approvals_window import ApprovalsWindow
    from skytwin_desktop.ui.settings_window import SettingsWindow

    intents = Intents(context)
    built: list[QWidget] = []

    def build(window: QWidget) -> QWidget:
        qtbot.addWidget(window)
        built.append(window)
        return window

    controller = TrayController(intents.report, set_pause=intents.set_pause, notifier=RecordingNotifier(),
                                settings=lambda: build(SettingsWindow(intents.save_setting, intents.paths)),
                                approvals=lambda: build(ApprovalsWindow(intents)))
    qtbot.addWidget(controller.window)
    assert built == [] and controller.settings_window is None and controller.approvals_window is None
    assert controller.settings_action.isEnabled() and controller.approvals_action.isEnabled()
    intents.set_pause(True, "after building nothing")
    controller.refresh()
    controller.open_settings_window()
    settings = controller.settings_window
    assert built == [settings] and settings.isVisible()
    assert "after building nothing" in settings.pause_banner.text(), "the state as it is when it opens"
    settings.close()
    controller.open_settings_window()
    controller.open_approvals_window()
    controller.open_approvals_window()
    assert built == [settings, controller.approvals_window] and settings.isVisible()
    settings.pause_window_requested.emit()
    assert controller.pause_dialog is not None and controller.pause_dialog.isVisible(), "wired when built"
    controller.shutdown()
