"""The status window: what the twin is doing, with the red pause banner and the amber re-auth
banners on top. The banners cannot be dismissed; they go away when their cause does."""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from skytwin_desktop.clock import iso_utc
from skytwin_desktop.domain import Connector
from skytwin_desktop.status import StatusReport, pause_line, reading_line
from skytwin_desktop.ui.state import Banner, TrayState

BANNER_STYLE = {
    "error": "background:#7f1d1d; color:white; border-radius:4px;",
    "pause": "background:#b91c1c; color:white; border-radius:4px;",
    "reauth": "background:#f59e0b; color:#1f2937; border-radius:4px;",
    "not-reading": "background:#4b5563; color:white; border-radius:4px;",
}
SHOWN_SET_ASIDE = 3
BANNER_MARK = {"error": "✖", "pause": "‖", "reauth": "⚠", "not-reading": "⊘"}  # the kind in a symbol too, never colour alone


class BannerWidget(QFrame):
    reconnect_clicked = Signal(object)

    def __init__(self, banner: Banner) -> None:
        super().__init__()
        self.banner = banner
        self.setObjectName(f"banner-{banner.kind}")
        self.setStyleSheet(f"QFrame#{self.objectName()} {{{BANNER_STYLE[banner.kind]}}}")
        row = QHBoxLayout(self)
        text = QLabel(f"{BANNER_MARK[banner.kind]}  {banner.text}")
        text.setWordWrap(True)
        text.setStyleSheet("background:transparent;")
        row.addWidget(text, 1)
        if banner.connector is not None:
            button = QPushButton(f"Reconnect {banner.connector.title}")
            button.setObjectName(f"reconnect-{banner.connector.value}")
            button.clicked.connect(lambda: self.reconnect_clicked.emit(banner.connector))
            row.addWidget(button)


class StatusWindow(QWidget):
    reconnect_requested = Signal(object)
    pause_window_requested = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("SkyTwin Desktop")
        self.setObjectName("status-window")
        self.setMinimumWidth(520)
        layout = QVBoxLayout(self)
        self.banner_box = QVBoxLayout()
        layout.addLayout(self.banner_box)
        self.note = QLabel(objectName="note")  # e.g. why there is no tray icon
        self.note.setWordWrap(True)
        self.note.hide()
        layout.addWidget(self.note)
        self.summary = QLabel(objectName="summary")
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        buttons = QHBoxLayout()
        self.pause_button = QPushButton("&Pause or resume…")
        self.pause_button.clicked.connect(self.pause_window_requested.emit)
        buttons.addWidget(self.pause_button)
        buttons.addStretch(1)
        self.quit_button = QPushButton("&Quit SkyTwin")
        self.quit_button.clicked.connect(QApplication.quit)  # the only way out when there is no tray
        buttons.addWidget(self.quit_button)
        layout.addLayout(buttons)
        self.banners: list[BannerWidget] = []

    def set_note(self, text: str | None) -> None:
        self.note.setText(text or "")
        self.note.setVisible(bool(text))

    def show_state(self, report: StatusReport, state: TrayState) -> None:
        for widget in self.banners:
            self.banner_box.removeWidget(widget)
            widget.deleteLater()
        self.banners = []
        for banner in state.banners:
            widget = BannerWidget(banner)
            widget.reconnect_clicked.connect(self.reconnect_requested.emit)
            self.banner_box.addWidget(widget)
            self.banners.append(widget)
        lines = [state.tooltip, f"Auto-execution: {pause_line(report)}",
                 f"Approvals waiting: {report.pending_approvals}"]
        for name, connector in report.connectors.items():
            when = iso_utc(connector.last_success_at) or "never"
            lines.append(f"{Connector(name).title}: {connector.status.value} (last success {when})")
            if connector.not_reading:
                lines.append(f"    {reading_line(Connector(name), connector)}")
        if report.set_aside:
            lines.append(f"Set aside (could not be read, stored or judged; the rest goes on): {len(report.set_aside)}")
            lines += [f"    {entry.describe()}" for entry in report.set_aside[:SHOWN_SET_ASIDE]]
            if len(report.set_aside) > SHOWN_SET_ASIDE:
                lines.append("    … 'skytwin-desktop status' lists them all")
        self.summary.setText("\n".join(lines))
        if self.isVisible():
            QTimer.singleShot(0, self, self._fit)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        QTimer.singleShot(0, self, self._fit)

    def _fit(self) -> None:
        """Grow (or shrink) to the wrapped text at the current width, so no line is ever cut off."""
        layout = self.layout()
        width = max(self.width(), self.minimumWidth())
        height = layout.totalHeightForWidth(width) if layout.hasHeightForWidth() else layout.sizeHint().height()
        self.resize(width, max(height, layout.totalMinimumSize().height()))
