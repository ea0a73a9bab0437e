"""The tray icon, its menu, and the windows it opens; with a plain window when the desktop has
no system tray. Background work (polls, sign-ins) reports here only through queued signals."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QAction, QDesktopServices, QIcon
from PySide6.QtWidgets import QApplication, QMenu, QSystemTrayIcon, QWidget

from skytwin_desktop.composition import AppContext
from skytwin_desktop.domain import Connector
from skytwin_desktop.heap import settle_after_startup
from skytwin_desktop.paths import resource
from skytwin_desktop.scheduler import CycleReport, PollScheduler
from skytwin_desktop.status import StatusReport
from skytwin_desktop.intents import Intents
from skytwin_desktop.ui.approvals_window import ApprovalsWindow
from skytwin_desktop.ui.notify import OPEN_APPROVALS, RECONNECT, DBusNotifier
from skytwin_desktop.ui.pause_dialog import PauseDialog
from skytwin_desktop.ui.settings_window import Paths, SettingsWindow
from skytwin_desktop.ui.state import PauseItem, ReauthNotices, TrayIcon, TrayState, tray_state
from skytwin_desktop.ui.status_window import StatusWindow

log = logging.getLogger(__name__)
TRAY_RECHECK_MS = 30_000
"""How often the no-tray window looks for a tray that appeared (a panel started late, say)."""
NO_TRAY_NOTE = ("Your desktop has no system tray, so SkyTwin shows this window instead. It moves to the tray "
                "by itself when one appears (on GNOME, install the AppIndicator extension).")


def icon_for(name: TrayIcon) -> QIcon:
    return QIcon(str(resource("icons", f"{name.value}.svg")))


class Bridge(QObject):
    """Signals that carry results from background threads to the GUI thread (always queued)."""

    poll_reported = Signal(object)  # a CycleReport: a poll and what the twin did with it
    sign_in_finished = Signal(object, object)  # connector, error message or None
    notification_action = Signal(str, str)  # action key, tag


class TrayController(QObject):
    """Owns the tray icon, its menu, the status window and the pause window. It shows state and
    forwards the person's intents; the work itself happens in the composition's services."""

    def __init__(self, report_source: Callable[[], StatusReport], *,
                 set_pause: Callable[[bool, str | None], None] | None = None,
                 reconnect: Callable[[Connector], None] | None = None,
                 notifier: DBusNotifier | None = None, settings: SettingsWindow | None = None,
                 approvals: ApprovalsWindow | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.settings_window = settings
        self.approvals_window = approvals
        self._report_source = report_source
        self._set_pause = set_pause
        self._reconnect = reconnect
        self.notifier = notifier
        self.notices = ReauthNotices()
        self.problem: str | None = None
        self.tray = QSystemTrayIcon(self)
        self.menu = QMenu()
        self.state_action = QAction(self)
        self.state_action.setEnabled(False)
        self.pause_action = QAction(self)
        self.pause_action.triggered.connect(self.open_pause_window)
        self.approvals_action = QAction(self)
        self.approvals_action.setEnabled(approvals is not None)
        self.approvals_action.triggered.connect(self.open_approvals_window)
        if approvals is not None:
            approvals.changed.connect(self.refresh)  # the count updates at once
        self.reconnect_actions: dict[Connector, QAction] = {}
        for connector in Connector:
            action = QAction(f"Reconnect {connector.title}", self)
            action.triggered.connect(lambda _=False, c=connector: self.request_reconnect(c))
            self.reconnect_actions[connector] = action
        self.settings_action = QAction("&Settings…", self)
        self.settings_action.setEnabled(settings is not None)
        self.settings_action.triggered.connect(self.open_settings_window)
        if settings is not None:
            settings.pause_window_requested.connect(self.open_pause_window)
        self.status_action = QAction("Show &status…", self)
        self.status_action.triggered.connect(self.open_status_window)
        self.quit_action = QAction("&Quit", self)
        self.quit_action.triggered.connect(QApplication.quit)
        self.tray.setContextMenu(self.menu)
        self.tray.activated.connect(self._activated)
        self.window = StatusWindow()
        self.window.reconnect_requested.connect(self.request_reconnect)
        self.window.pause_window_requested.connect(self.open_pause_window)
        self.pause_dialog: PauseDialog | None = None
        self.recheck = QTimer(self)
        self.recheck.setInterval(TRAY_RECHECK_MS)
        self.recheck.timeout.connect(self.place)
        self.refresh()

    # --- showing state -------------------------------------------------------------------
    def refresh(self) -> None:
        """Read the status (a short local query) and show it everywhere."""
        self.report = self._report_source()
        self.state = tray_state(self.report, self.problem)
        self._apply(self.state)
        self._notify()

    def _apply(self, state: TrayState) -> None:
        self.tray.setIcon(icon_for(state.icon))
        self.tray.setToolTip(state.tooltip)
        self.state_action.setText(state.tooltip)
        if state.pause_item is PauseItem.OPERATOR:
            self.pause_action.setText("Paused by administrator (SKYTWIN_AUTO_EXECUTE_DISABLED)")
            self.pause_action.setEnabled(False)
        else:
            self.pause_action.setText("Resume auto-execution" if state.pause_item is PauseItem.RESUME
                                      else "Pause auto-execution…")
            self.pause_action.setEnabled(True)
        self.approvals_action.setText(f"Approvals ({state.approvals})")
        self._rebuild_menu(state)
        self.window.show_state(self.report, state)
        if self.settings_window is not None:
            self.settings_window.show_report(self.report)
        if self.pause_dialog is not None:
            self.pause_dialog.show_report(self.report)

    def _rebuild_menu(self, state: TrayState) -> None:
        """Lay the menu out again only when its entries change, so an open menu stays open."""
        layout = [self.state_action, None, self.pause_action, self.approvals_action,
                  *(self.reconnect_actions[c] for c in state.reconnect),
                  None, self.status_action, self.settings_action, None, self.quit_action]
        if layout == getattr(self, "_layout", None):
            return
        self._layout = layout
        self.menu.clear()
        for action in layout:
            if action is None:
                self.menu.addSeparator()
            else:
                self.menu.addAction(action)

    def _notify(self) -> None:
        show, close = self.notices.update(self.report)
        for connector, message in show:
            self._announce(f"reauth-{connector.value}", f"{connector.title} needs reconnecting", message,
                           (RECONNECT, f"Reconnect {connector.title}"), persistent=True)
        for connector in close:
            if self.notifier is not None:
                try:
                    self.notifier.close(f"reauth-{connector.value}")
                except Exception as exc:
                    log.warning("Could not close a notification (%s)", type(exc).__name__)

    def cycle_reported(self, report: CycleReport) -> None:
        """After each poll: show the new state, and announce new approvals once per batch."""
        self.refresh()
        batch = report.batch
        if batch is None or not batch.queued:
            return
        title = (f"{batch.queued} actions wait for your approval" if batch.queued > 1
                 else "An action waits for your approval")
        shown = batch.queued_targets[:3]
        more = f"\n… and {batch.queued - len(shown)} more" if batch.queued > len(shown) else ""
        self._announce("approvals", title, "\n".join(shown) + more, (OPEN_APPROVALS, "Open Approvals"),
                       persistent=False)

    def _announce(self, tag: str, title: str, message: str, action: tuple[str, str], *, persistent: bool) -> None:
        """A desktop notification with one action button; the tray's own balloon when there is none.
        A persistent one is a warning that stays; the others are news that may expire."""
        if self.notifier is not None:
            try:
                self.notifier.show(tag, title, message, actions=(action,), persistent=persistent)
                return
            except Exception as exc:
                log.warning("Desktop notification failed (%s); using the tray's message", type(exc).__name__)
        icon = QSystemTrayIcon.MessageIcon.Warning if persistent else QSystemTrayIcon.MessageIcon.Information
        self.tray.showMessage(title, message, icon, 0 if persistent else 10_000)

    # --- the person's intents ------------------------------------------------------------
    def open_status_window(self) -> None:
        _bring_forward(self.window)

    def open_approvals_window(self) -> None:
        if self.approvals_window is not None:
            self.approvals_window.reload()
            _bring_forward(self.approvals_window)

    def open_settings_window(self) -> None:
        if self.settings_window is not None:
            _bring_forward(self.settings_window)

    def open_pause_window(self) -> None:
        if self.pause_dialog is None:
            self.pause_dialog = PauseDialog(self.report)
            self.pause_dialog.pause_requested.connect(lambda reason: self._change_pause(True, reason or None))
            self.pause_dialog.resume_requested.connect(lambda: self._change_pause(False, None))
        self.pause_dialog.show_report(self.report)
        self.pause_dialog.show()
        self.pause_dialog.raise_()

    def _change_pause(self, paused: bool, reason: str | None) -> None:
        if self._set_pause is not None:
            self._set_pause(paused, reason)
        self.refresh()

    def request_reconnect(self, connector: Connector) -> None:
        if self._reconnect is not None:
            self._reconnect(Connector(connector))

    def sign_in_finished(self, connector: Connector | None, error: str | None) -> None:
        if error:
            title = f"{connector.title} is still disconnected" if connector else "SkyTwin could not finish"
            self.tray.showMessage(title, error, QSystemTrayIcon.MessageIcon.Warning, 10_000)
        self.refresh()

    def notification_action(self, key: str, tag: str) -> None:
        if key in (RECONNECT, "default") and tag.startswith("reauth-"):
            self.request_reconnect(Connector(tag.removeprefix("reauth-")))
        elif key in (OPEN_APPROVALS, "default") and tag == "approvals":
            self.open_approvals_window()

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (QSystemTrayIcon.ActivationReason.Trigger, QSystemTrayIcon.ActivationReason.DoubleClick):
            self.open_status_window()

    # --- placement and shutdown ------------------------------------------------------------
    def place(self) -> None:
        """Use the tray when there is one; otherwise keep the status window up and look again later."""
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.tray.show()
            self.window.set_note(None)
            self.window.hide()
            self.recheck.stop()
        else:
            self.tray.hide()
            self.window.set_note(NO_TRAY_NOTE)
            self.window.show()
            self.recheck.start()

    def shutdown(self) -> None:
        self.recheck.stop()
        self.tray.hide()
        self.tray.setContextMenu(None)
        self.window.close()
        if self.pause_dialog is not None:
            self.pause_dialog.close()
        for window in (self.settings_window, self.approvals_window):
            if window is not None:
                window.close()
        if self.notifier is not None:
            self.notifier.shutdown()


def _bring_forward(window: QWidget) -> None:
    window.show()
    window.raise_()
    window.activateWindow()


def quit_on_signals(app: QApplication) -> None:
    """SIGTERM or Ctrl-C (a logout, `kill`, a terminal) quits as cleanly as the menu's Quit.
    Python only runs signal handlers between bytecodes, so a slow timer lets it in."""
    def request_quit(*_args) -> None:
        QTimer.singleShot(0, app.quit)

    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, request_quit)
    wake = QTimer(app)
    wake.start(250)  # a quarter second at most before a signal is seen
    wake.timeout.connect(lambda: None)


def run_tray(context: AppContext) -> int:
    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName("SkyTwin Desktop")
    app.setDesktopFileName("skytwin-desktop")
    app.setWindowIcon(icon_for(TrayIcon.LISTENING))
    app.setQuitOnLastWindowClosed(False)
    bridge = Bridge()

    intents = Intents(context)

    def in_background(name: str, connector: Connector | None, work: Callable[[], object]) -> None:
        """Network work (sign-in, revoke) off the GUI thread; the result comes back as a signal."""
        def run() -> None:
            try:
                work()
                error = None
            except Exception as exc:
                error = str(exc) or type(exc).__name__
            bridge.sign_in_finished.emit(connector, error)

        threading.Thread(target=run, name=name, daemon=True).start()

    def reconnect(connector: Connector) -> None:
        in_background(f"sign-in-{connector.value}", connector, lambda: context.connectors.connect(connector))

    def connector_action(connector: Connector, verb: str) -> None:
        if verb == "disconnect":
            in_background(f"disconnect-{connector.value}", connector,
                          lambda: context.connectors.disconnect(connector))
        else:
            reconnect(connector)

    def delete_all() -> None:
        in_background("delete-all", None, lambda: log.info("Deleted all data: %s", intents.delete_all()))

    settings = SettingsWindow(intents.save_setting, Paths(str(context.config.data_dir),
                                                          str(context.config.database_path),
                                                          str(context.config.log_dir)), rules=intents)
    settings.connector_action.connect(connector_action)
    settings.delete_all_requested.connect(delete_all)
    settings.open_log_folder.connect(
        lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(context.config.log_dir))))
    settings.show_settings(intents.settings())
    notifier = DBusNotifier.connect(on_action=bridge.notification_action.emit, on_closed=lambda tag: None)
    controller = TrayController(intents.report, set_pause=intents.set_pause, reconnect=reconnect, notifier=notifier,
                                settings=settings, approvals=ApprovalsWindow(intents))
    bridge.poll_reported.connect(controller.cycle_reported, Qt.ConnectionType.QueuedConnection)
    bridge.sign_in_finished.connect(controller.sign_in_finished, Qt.ConnectionType.QueuedConnection)
    bridge.notification_action.connect(controller.notification_action, Qt.ConnectionType.QueuedConnection)
    controller.place()
    scheduler = PollScheduler(context.connectors, context.config.poll_interval, on_report=bridge.poll_reported.emit,
                              twin=context.twin)
    scheduler.start()
    app.aboutToQuit.connect(scheduler.shutdown)
    app.aboutToQuit.connect(controller.shutdown)
    quit_on_signals(app)
    settle_after_startup()
    log.info("Tray started (%s)", "system tray" if QSystemTrayIcon.isSystemTrayAvailable() else "no tray: window")
    return app.exec()
