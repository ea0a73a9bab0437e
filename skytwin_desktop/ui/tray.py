"""The tray icon and its menu, with a plain window when the desktop has no system tray."""

from __future__ import annotations

import logging
import sys

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QIcon
from PySide6.QtWidgets import QApplication, QLabel, QMenu, QPushButton, QSystemTrayIcon, QVBoxLayout, QWidget

from skytwin_desktop.composition import AppContext
from skytwin_desktop.paths import resource
from skytwin_desktop.scheduler import PollScheduler
from skytwin_desktop.status import StatusReport, read_status
from skytwin_desktop.ui.state import TrayIcon, TrayState, tray_state

log = logging.getLogger(__name__)
TRAY_RECHECK_MS = 30_000
"""How often the no-tray window looks for a tray that appeared (a panel started late, say)."""


def icon_for(name: TrayIcon) -> QIcon:
    return QIcon(str(resource("icons", f"{name.value}.svg")))


class NoTrayWindow(QWidget):
    """Shown instead of the tray icon when there is none, so the app is never invisible."""

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle("SkyTwin Desktop")
        self.setWindowIcon(icon_for(TrayIcon.LISTENING))
        layout = QVBoxLayout(self)
        explanation = QLabel(
            "Your desktop has no system tray, so SkyTwin shows this window instead.\n"
            "It moves to the tray by itself when one appears (on GNOME, install the AppIndicator extension)."
        )
        explanation.setWordWrap(True)
        self.state_label = QLabel()
        self.state_label.setObjectName("state")
        quit_button = QPushButton("&Quit")
        quit_button.clicked.connect(QApplication.quit)
        layout.addWidget(explanation)
        layout.addWidget(self.state_label)
        layout.addWidget(quit_button)


class TrayController(QObject):
    """Owns the tray icon, its menu and the fallback window."""

    def __init__(self, report: StatusReport, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.tray = QSystemTrayIcon(self)
        self.menu = QMenu()
        self.state_action = QAction(self.menu)
        self.state_action.setEnabled(False)
        self.menu.addAction(self.state_action)
        self.menu.addSeparator()
        self.quit_action = self.menu.addAction("&Quit")
        self.quit_action.triggered.connect(QApplication.quit)
        self.tray.setContextMenu(self.menu)
        self.window = NoTrayWindow()
        self.recheck = QTimer(self)
        self.recheck.setInterval(TRAY_RECHECK_MS)
        self.recheck.timeout.connect(self.place)
        self.show_report(report)

    def show_report(self, report: StatusReport) -> None:
        self.apply(tray_state(report))

    def apply(self, state: TrayState) -> None:
        self.tray.setIcon(icon_for(state.icon))
        self.tray.setToolTip(state.tooltip)
        self.state_action.setText(state.tooltip)
        self.window.state_label.setText(state.tooltip)

    def place(self) -> None:
        """Use the tray when there is one; otherwise keep the window up and look again later."""
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.tray.show()
            self.window.hide()
            self.recheck.stop()
        else:
            self.tray.hide()
            self.window.show()
            self.recheck.start()

    def shutdown(self) -> None:
        self.recheck.stop()
        self.tray.hide()
        self.window.close()


class PollBridge(QObject):
    """Carries poll reports from the scheduler's thread to the GUI thread (queued, never direct)."""

    reported = Signal(object)


def run_tray(context: AppContext) -> int:
    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName("SkyTwin Desktop")
    app.setDesktopFileName("skytwin-desktop")
    app.setWindowIcon(icon_for(TrayIcon.LISTENING))
    app.setQuitOnLastWindowClosed(False)
    def current_report() -> StatusReport:
        with context.session() as session:
            return read_status(
                session, context.user_id, operator_paused=context.config.auto_execute_disabled, now=context.clock()
            )

    controller = TrayController(current_report())
    controller.place()
    bridge = PollBridge()
    bridge.reported.connect(lambda _report: controller.show_report(current_report()), Qt.QueuedConnection)
    scheduler = PollScheduler(context.connectors, context.config.poll_interval, on_report=bridge.reported.emit)
    scheduler.start()
    app.aboutToQuit.connect(scheduler.shutdown)
    app.aboutToQuit.connect(controller.shutdown)
    log.info("Tray started (%s)", "system tray" if QSystemTrayIcon.isSystemTrayAvailable() else "no tray: window")
    return app.exec()
