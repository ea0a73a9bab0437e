"""The tray icon, its menu, and the windows it opens; with a plain window when the desktop has
no system tray. Background work (polls, sign-ins) reports here only through queued signals."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QAction, QIcon
from PySide6.QtWidgets import QApplication, QMenu, QSystemTrayIcon, QWidget

from skytwin_desktop.domain import Connector
from skytwin_desktop.errors import SkytwinError
from skytwin_desktop.heap import collect_here
from skytwin_desktop.intents import Change
from skytwin_desktop.outcomes import BatchReport
from skytwin_desktop.paths import resource
from skytwin_desktop.status import StatusReport
from skytwin_desktop.ui.notify import OPEN_APPROVALS, RECONNECT, DBusNotifier
from skytwin_desktop.ui.pause_dialog import PauseDialog
from skytwin_desktop.ui.state import (
    PauseItem,
    ReauthNotices,
    TrayIcon,
    TrayState,
    tray_state,
)
from skytwin_desktop.ui.status_window import StatusWindow

if TYPE_CHECKING:  # built when first opened, by the composition root's factories
    from skytwin_desktop.ui.approvals_window import ApprovalsWindow
    from skytwin_desktop.ui.settings_window import SettingsWindow

log = logging.getLogger(__name__)
TRAY_RECHECK_MS = 30_000
"""How often the no-tray window looks for a tray that appeared (a panel started late, say)."""
SETTLE_MS = 2_000
"""After the last change of a burst (a poll, a twin pass), the GUI thread collects garbage: see heap."""
TRY_DEMO = "try-demo"
ADD_LAUNCHER = "add-launcher"
NO_TRAY_NOTE = ("Your desktop has no system tray, so SkyTwin shows this window instead. It moves to the tray "
                "by itself when one appears (on GNOME, install the AppIndicator extension).")


def icon_for(name: TrayIcon) -> QIcon:
    return QIcon(str(resource("icons", f"{name.value}.svg")))


class TrayController(QObject):
    """Owns the tray icon, its menu, the status window and the pause window. It shows state and
    forwards the person's intents; the work itself happens in the composition's services."""

    def __init__(self, report_source: Callable[[], StatusReport], *,
                 set_pause: Callable[[bool, str | None], None] | None = None,
                 reconnect: Callable[[Connector], None] | None = None,
                 connector_action: Callable[[Connector, str], None] | None = None,
                 notifier: DBusNotifier | None = None, settings: Callable[[], SettingsWindow] | None = None,
                 approvals: Callable[[], ApprovalsWindow] | None = None, parent: QObject | None = None,
                 tray: QSystemTrayIcon | None = None) -> None:
        """`tray`: the icon already shown while the app started (it goes on showing the state).
        `settings`, `approvals`: build those windows, when the person first opens them (most days
        nobody does, and an app that runs for months should not hold them)."""
        super().__init__(parent)
        self._make_settings = settings
        self._make_approvals = approvals
        self.settings_window: SettingsWindow | None = None
        self.approvals_window: ApprovalsWindow | None = None
        self._report_source = report_source
        self._set_pause = set_pause
        self._reconnect = reconnect
        self._connector_action = connector_action
        """connector_action(connector, "connect" | "reconnect" | "cancel"): the composition's worker."""
        self.try_demo: Callable[[], None] | None = None
        """Restarts the app against the built-in sandbox (set by the composition root)."""
        self.add_launcher: Callable[[], None] | None = None
        """Puts SkyTwin into the desktop's app menu (set by the composition root where there is one)."""
        self.notifier = notifier
        self.notices = ReauthNotices()
        self.problem: SkytwinError | None = None
        self.trouble: SkytwinError | None = None
        """Trouble the last poll cycle met that passes (a full disk): shown until a cycle goes through."""
        """Why the app cannot work at all (its database), when it cannot."""
        self.stop_acting: Callable[[], None] | None = None
        """Stops the background work (set by the composition root)."""
        self._refresh_due = False
        self.demo = False
        """Against the built-in sandbox: every window and the tooltip say so (set by the composition root)."""
        self.tray = tray if tray is not None else QSystemTrayIcon(self)
        self.menu = QMenu()
        self.state_action = QAction(self)
        self.state_action.setEnabled(False)
        self.pause_action = QAction(self)
        self.pause_action.triggered.connect(self.open_pause_window)
        self.approvals_action = QAction(self)
        self.approvals_action.setEnabled(approvals is not None)
        self.approvals_action.triggered.connect(self.open_approvals_window)
        self.reconnect_actions: dict[Connector, QAction] = {}
        for connector in Connector:
            action = QAction(f"Reconnect {connector.display_name}", self)
            action.triggered.connect(lambda _=False, c=connector: self.request_reconnect(c))
            self.reconnect_actions[connector] = action
        self.sign_in_actions: dict[Connector, tuple[QAction, QAction]] = {}
        for connector in Connector:
            copy = QAction(f"Copy {connector.display_name} sign-in link", self)
            copy.triggered.connect(lambda _=False, c=connector: self.copy_sign_in_link(c))
            cancel = QAction(f"Cancel {connector.display_name} sign-in", self)
            cancel.triggered.connect(lambda _=False, c=connector: self.act_on_connector(c, "cancel"))
            self.sign_in_actions[connector] = (copy, cancel)
        self.settings_action = QAction("&Settings…", self)
        self.settings_action.setEnabled(settings is not None)
        self.settings_action.triggered.connect(self.open_settings_window)
        self.status_action = QAction("Show &status…", self)
        self.status_action.triggered.connect(self.open_status_window)
        self.quit_action = QAction("&Quit", self)
        self.quit_action.triggered.connect(QApplication.quit)
        self.restart_action = QAction("&Restart SkyTwin", self)
        self.restart_action.triggered.connect(lambda: self.restart() if self.restart is not None else None)
        self.restart: Callable[[], None] | None = None
        """Starts the app afresh (set by the composition root); offered once it had to stop."""
        self.stopped = False
        """True once the app stopped acting because it cannot go on (its database is gone)."""
        self._icons: dict[TrayIcon, QIcon] = {}
        self._shown_icon: TrayIcon | None = None
        self.tray.setContextMenu(self.menu)
        self.tray.activated.connect(self._activated)
        self.window = StatusWindow()
        self.window.reconnect_requested.connect(self.request_reconnect)
        self.window.connector_action.connect(self.act_on_connector)
        self.window.pause_window_requested.connect(self.open_pause_window)
        self.window.approvals_requested.connect(self.open_approvals_window)
        self.window.settings_requested.connect(self.open_settings_window)
        self.window.demo_requested.connect(lambda: self.try_demo() if self.try_demo is not None else None)
        self.window.launcher_requested.connect(lambda: self.add_launcher() if self.add_launcher is not None else None)
        self.pause_dialog: PauseDialog | None = None
        self.settled = QTimer(self)
        self.settled.setSingleShot(True)
        self.settled.setInterval(SETTLE_MS)
        self.settled.timeout.connect(collect_here)
        self.recheck = QTimer(self)
        self.recheck.setInterval(TRAY_RECHECK_MS)
        self.recheck.timeout.connect(self.place)
        self.refresh()

    # --- showing state -------------------------------------------------------------------
    def refresh(self) -> None:
        """Read the status (a short local read, never behind a writer) and show it everywhere."""
        self._refresh_due = False
        try:
            self.report = self._report_source()
        except SkytwinError as exc:  # the database is busy or gone: say so, keep the last known state
            if not hasattr(self, "report"):
                raise
            if not self.stopped:
                self.problem = exc
        else:
            if self.problem and not self.stopped:
                self.problem = None  # the database answers again
        problem = self.problem or (None if self.stopped else self.trouble)
        self.state = tray_state(self.report, problem.short() if problem else None, str(problem) if problem else None,
                                demo=self.demo)
        self._apply(self.state)
        self._notify()

    def _apply(self, state: TrayState) -> None:
        """Only what changed is set: each new icon is rendered (and cached by Qt) again, and each
        change goes to the tray host over D-Bus; an unchanged poll result touches nothing."""
        if state.tooltip != self.tray.toolTip():
            log.info("Tray shows: %s", state.tooltip)
            self.tray.setToolTip(state.tooltip)
        if state.icon is not self._shown_icon:
            icon = self._icons.get(state.icon)
            if icon is None:
                icon = self._icons[state.icon] = icon_for(state.icon)
            self.tray.setIcon(icon)
            self._shown_icon = state.icon
        self.state_action.setText(state.tooltip)
        if state.pause_item is PauseItem.OPERATOR:
            self.pause_action.setText("Paused by administrator (SKYTWIN_AUTO_EXECUTE_DISABLED)")
            self.pause_action.setEnabled(False)
        else:
            self.pause_action.setText("&Resume…" if state.pause_item is PauseItem.RESUME else "&Pause now…")
            self.pause_action.setEnabled(True)
        self.approvals_action.setText(f"Approvals ({state.approvals})")
        self._rebuild_menu(state)
        self.window.show_state(self.report, state)
        if self.settings_window is not None:
            self.settings_window.show_report(self.report)
        if self.pause_dialog is not None:
            self.pause_dialog.show_report(self.report)
        if self.approvals_window is not None:
            self.approvals_window.follow()  # reads only while it is open

    def _rebuild_menu(self, state: TrayState) -> None:
        """Lay the menu out again only when its entries change, so an open menu stays open."""
        layout = [self.state_action, None, self.pause_action, self.approvals_action,
                  *(self.reconnect_actions[c] for c in state.reconnect),
                  *(action for c in state.signing_in for action in self.sign_in_actions[c]),
                  None, self.status_action, self.settings_action, None,
                  *([self.restart_action] if self.stopped and self.restart is not None else []), self.quit_action]
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
            self._announce(f"reauth-{connector.value}", f"{connector.display_name} needs reconnecting", message,
                           (RECONNECT, f"Reconnect {connector.display_name}"), persistent=True)
        for connector in close:
            if self.notifier is not None:
                try:
                    self.notifier.close(f"reauth-{connector.value}")
                except Exception as exc:  # noqa: BLE001 - a notification server may fail in any way; logged, and the tray goes on
                    log.warning("Could not close a notification (%s)", type(exc).__name__)

    def changed(self, change: Change) -> None:
        """Anything changed, through any door: show it (one refresh for a burst of changes), and
        announce new approvals once per batch."""
        if not self._refresh_due:
            self._refresh_due = True
            QTimer.singleShot(0, self, self.refresh)
        if not self.settled.isActive():  # collect here soon after work begins, and again while it goes on:
            self.settled.start()  # restarting it at each change would put it off for as long as work lasts
        if change.batch is not None:
            self.announce_batch(change.batch)

    def troubled(self, error: SkytwinError | None) -> None:
        """A poll cycle met trouble that passes (a full disk, a busy or read-only database), or None:
        a cycle went through again. Shown in the icon, tooltip and status window meanwhile."""
        if error is not None and self.trouble is None:
            log.warning("Shown in the tray: %s", error)
        self.trouble = error
        self.refresh()

    def failed(self, error: SkytwinError) -> None:
        """The app itself cannot go on (its database was deleted, say): stop acting, say so, and
        offer to start afresh."""
        if self.stopped:
            return
        self.stopped = True
        self.problem = error
        message = str(error)
        log.error("Stopped acting: %s", message)
        if self.stop_acting is not None:
            self.stop_acting()
        self.refresh()
        self._announce("stopped", "SkyTwin stopped", message, ("restart", "Restart SkyTwin"), persistent=True)

    def background_failed(self, message: str) -> None:
        """A sign-in or disconnect in the background did not work: say so, in words."""
        self.tray.showMessage("SkyTwin could not finish", message, QSystemTrayIcon.MessageIcon.Warning, 10_000)
        self.refresh()

    def announce_batch(self, batch: BatchReport) -> None:
        if not batch.queued:
            return
        title = (f"{batch.queued} actions wait for your approval" if batch.queued > 1
                 else "An action waits for your approval")
        shown = batch.queued_targets[:3]
        more = f"\n… and {batch.queued - len(shown)} more" if batch.queued > len(shown) else ""
        self._announce("approvals", title, "\n".join(shown) + more, (OPEN_APPROVALS, "Open Approvals"),
                       persistent=False)

    def _announce(self, tag: str, title: str, message: str, *actions: tuple[str, str], persistent: bool) -> None:
        """A desktop notification with its action buttons (the first is also a click on it); the
        tray's own balloon when there is none. A persistent one is a warning that stays; the others
        are news that may expire."""
        if self.notifier is not None:
            try:
                self.notifier.show(tag, title, message, actions=actions, persistent=persistent)
                return
            except Exception as exc:  # noqa: BLE001 - a notification server may fail in any way; logged, and the tray goes on
                log.warning("Desktop notification failed (%s); using the tray's message", type(exc).__name__)
        icon = QSystemTrayIcon.MessageIcon.Warning if persistent else QSystemTrayIcon.MessageIcon.Information
        self.tray.showMessage(title, message, icon, 0 if persistent else 10_000)

    # --- the person's intents ------------------------------------------------------------
    def open_status_window(self) -> None:
        _bring_forward(self.window)

    def open_approvals_window(self) -> None:
        if self.approvals_window is None:
            if self._make_approvals is None:
                return
            self.approvals_window = self._make_approvals()
            self.approvals_window.changed.connect(self.refresh)  # the count updates at once
        self.approvals_window.reload()
        _bring_forward(self.approvals_window)

    def open_settings_window(self) -> None:
        if self.settings_window is None:
            if self._make_settings is None:
                return
            self.settings_window = self._make_settings()
            self.settings_window.pause_window_requested.connect(self.open_pause_window)
        self.settings_window.show_report(self.report)
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
        elif self._connector_action is not None:
            self._connector_action(Connector(connector), "reconnect")

    def act_on_connector(self, connector: Connector, verb: str) -> None:
        if verb == "reconnect":
            self.request_reconnect(connector)
        elif self._connector_action is not None:
            self._connector_action(Connector(connector), verb)

    def copy_sign_in_link(self, connector: Connector) -> None:
        """The waiting sign-in's address, for a browser that did not open by itself."""
        wait = self.report.sign_in_for(connector)
        if wait is not None:
            QApplication.clipboard().setText(wait.url)
            self.tray.showMessage("Sign-in link copied",
                                  f"Paste it into your browser to connect {connector.display_name}.",
                                  QSystemTrayIcon.MessageIcon.Information, 5_000)

    def offer_launcher(self) -> bool:
        """Asked once, at a first start: SkyTwin in the app menu like any other app. In the
        welcome window when it is open (one thing at a time), else in a desktop notification;
        never in the tray's own balloon, which some trays keep as the icon's words. False: not
        asked (ask at a later start)."""
        if self.window.isVisible():
            self.window.launcher_box.show()
            return True
        if self.notifier is None:
            return False
        try:
            self.notifier.show("launcher", "Add SkyTwin to your app menu?",
                               "Then you can start it from the menu like your other apps.",
                               actions=((ADD_LAUNCHER, "Add to app menu"),), persistent=False)
        except Exception as exc:  # noqa: BLE001 - a notification server may fail in any way; logged, and the tray goes on
            log.info("Could not offer the app-menu entry (%s)", type(exc).__name__)
            return False
        return True

    def welcome(self) -> None:
        """The first run (nothing connected yet): the window that guides, and one notification."""
        if not self.report.nothing_connected:
            return
        self.open_status_window()
        if self.notifier is None:
            return  # the window says it all; the tray's own balloon would stand in for the icon's words
        actions = [(f"connect-{c.value}", f"Connect {c.display_name}") for c in Connector]
        if self.window.offer_demo:
            actions.append((TRY_DEMO, "Try the demo"))
        self._announce("welcome", "SkyTwin is not connected to Google yet",
                       "Connect Gmail or Calendar so your twin can start, or try the demo first.", *actions,
                       persistent=False)

    def notification_action(self, key: str, tag: str) -> None:
        if key in (RECONNECT, "default") and tag.startswith("reauth-"):
            self.request_reconnect(Connector(tag.removeprefix("reauth-")))
        elif key in (OPEN_APPROVALS, "default") and tag == "approvals":
            self.open_approvals_window()
        elif key in ("restart", "default") and tag == "stopped" and self.restart is not None:
            self.restart()
        elif tag == "launcher" and key in (ADD_LAUNCHER, "default") and self.add_launcher is not None:
            self.add_launcher()
        elif tag == "welcome":
            if key.startswith("connect-") and key.removeprefix("connect-") in {c.value for c in Connector}:
                self.act_on_connector(Connector(key.removeprefix("connect-")), "connect")
            elif key == TRY_DEMO and self.try_demo is not None:
                self.try_demo()
            elif key == "default":
                self.open_status_window()

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
        self.settled.stop()
        self.tray.hide()
        self.tray.setContextMenu(None)  # type: ignore[arg-type]  # Qt takes None (no menu); its stubs do not say so
        self.window.close()
        if self.pause_dialog is not None:
            self.pause_dialog.close()
        for window in (self.settings_window, self.approvals_window):
            if window is not None:
                window.close()
        if self.notifier is not None:
            self.notifier.shutdown()


def _bring_forward(window: QWidget) -> None:
    """Show the window whole on the screen: never larger than its screen's free area, and moved
    inside it when it would stick out (a window opened near the tray, say)."""
    if not window.isVisible():
        screen = window.screen() or QApplication.primaryScreen()
        if screen is not None:
            free = screen.availableGeometry()
            size = window.sizeHint().expandedTo(window.size()).boundedTo(free.size() * 0.9)
            window.resize(size.expandedTo(window.minimumSize()).boundedTo(free.size()))
            frame = window.frameGeometry()
            frame.moveCenter(free.center())
            window.move(frame.topLeft())
    window.show()
    window.raise_()
    window.activateWindow()
