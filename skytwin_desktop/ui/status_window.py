"""The status window: a small dashboard, and the whole app when the desktop has no tray.

The state in words on top (with the banners that cannot be dismissed: they go away when their
cause does), then one row per Google service with what to do about it (Connect, Reconnect, or
while a sign-in waits: Copy sign-in link and Cancel), what waits for the person, the pause, and
the ways to Approvals, Settings and out. With nothing connected yet it is the first-run window
and also offers the demo."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QShowEvent
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from skytwin_desktop import words
from skytwin_desktop.domain import APP_TITLE, Connector, HealthStatus
from skytwin_desktop.status import StatusReport, pause_line, reading_line
from skytwin_desktop.ui.state import Banner, PauseItem, TrayState
from skytwin_desktop.ui.widgets import named, text_label

BANNER_STYLE = {
    "error": "background:#7f1d1d; color:white; border-radius:4px;",
    "pause": "background:#b91c1c; color:white; border-radius:4px;",
    "reauth": "background:#f59e0b; color:#1f2937; border-radius:4px;",
    "not-reading": "background:#4b5563; color:white; border-radius:4px;",
}
SHOWN_SET_ASIDE = 3
# The kind in a symbol too, never colour alone.
BANNER_MARK = {"error": "✖", "pause": "‖", "reauth": "⚠", "not-reading": "⊘"}
DEMO_TEXT = ("New here? Try the demo first: SkyTwin restarts against a built-in pretend Google account, so you can "
             "see what it does without connecting anything real. Your own data is not touched.")


class BannerWidget(QFrame):
    reconnect_clicked = Signal(object)

    def __init__(self, banner: Banner) -> None:
        super().__init__()
        self.banner = banner
        self.setObjectName(f"banner-{banner.kind}")
        self.setStyleSheet(f"QFrame#{self.objectName()} {{{BANNER_STYLE[banner.kind]}}}")
        row = QHBoxLayout(self)
        self.text = text = text_label(f"{BANNER_MARK[banner.kind]}  {banner.text}")
        text.setWordWrap(True)
        text.setStyleSheet("background:transparent;")
        row.addWidget(text, 1)
        if banner.connector is not None:
            button = QPushButton(f"Reconnect {banner.connector.display_name}")
            button.setObjectName(f"reconnect-{banner.connector.value}")
            button.clicked.connect(lambda: self.reconnect_clicked.emit(banner.connector))
            row.addWidget(button)

    def same_place(self, banner: Banner) -> bool:
        """Whether `banner` is this one with other words (its time, say): shown by `reword`."""
        return (banner.kind, banner.connector) == (self.banner.kind, self.banner.connector)

    def reword(self, banner: Banner) -> None:
        self.banner = banner
        self.text.setText(f"{BANNER_MARK[banner.kind]}  {banner.text}")


def connector_text(connector: Connector, report: StatusReport) -> tuple[str, str]:
    """(what the row says, the verb its button offers: "connect", "reconnect", "copy-link" or "")."""
    state, now = report.connectors[connector], report.now
    wait = report.sign_in_for(connector)
    if wait is not None:
        return (f"Waiting for you to sign in to Google in your browser (SkyTwin stops waiting "
                f"{words.when(wait.until, now)}). If no browser opened, copy the sign-in link into one.", "copy-link")
    if state.status is HealthStatus.DISABLED:
        return "Not connected: your twin does not read it.", "connect"
    if state.status is HealthStatus.NEEDS_REAUTH:
        why = words.failure(state.error_code) or words.GENERIC_FAILURE
        return f"Needs reconnecting ({why}); your twin has stopped reading it.", ""  # the banner has Reconnect
    if state.not_reading:
        return reading_line(connector, state, now) + ".", ""
    return f"Connected · last read {words.when(state.last_success_at, now)}", ""


class StatusWindow(QWidget):
    reconnect_requested = Signal(object)
    connector_action = Signal(object, str)  # connector, "connect" | "reconnect" | "cancel"
    pause_window_requested = Signal()
    approvals_requested = Signal()
    settings_requested = Signal()
    demo_requested = Signal()
    launcher_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(APP_TITLE)
        self.setObjectName("status-window")
        self.setMinimumWidth(560)
        self.report: StatusReport | None = None
        layout = QVBoxLayout(self)
        self.headline = text_label(objectName="headline")
        self.headline.setWordWrap(True)
        font = self.headline.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setBold(True)
        self.headline.setFont(font)
        layout.addWidget(self.headline)
        self.banner_box = QVBoxLayout()
        layout.addLayout(self.banner_box)
        self.note = text_label(objectName="note")  # e.g. why there is no tray icon
        self.note.setWordWrap(True)
        self.note.hide()
        layout.addWidget(self.note)

        grid = QGridLayout()
        grid.setColumnStretch(1, 1)
        self.rows: dict[Connector, tuple[QLabel, QPushButton, QPushButton]] = {}
        for line, connector in enumerate(Connector):
            name = QLabel(f"<b>{connector.display_name}</b>")
            text = text_label(objectName=f"row-{connector.value}")
            text.setWordWrap(True)
            main = named(QPushButton(), f"row-action-{connector.value}")
            main.clicked.connect(lambda _=False, c=connector: self._row_action(c))
            cancel = named(QPushButton("Cancel"), f"row-cancel-{connector.value}")
            cancel.setToolTip(f"Stop waiting for the {connector.display_name} sign-in")
            cancel.clicked.connect(lambda _=False, c=connector: self.connector_action.emit(c, "cancel"))
            grid.addWidget(name, line, 0, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(text, line, 1)
            grid.addWidget(main, line, 2, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(cancel, line, 3, Qt.AlignmentFlag.AlignTop)
            self.rows[connector] = (text, main, cancel)
        line = len(Connector)
        self.approvals_line = text_label(objectName="approvals-line")
        self.approvals_button = named(QPushButton("Open &Approvals…"), "open-approvals")
        self.approvals_button.clicked.connect(self.approvals_requested.emit)
        grid.addWidget(QLabel("<b>Approvals</b>"), line, 0)
        grid.addWidget(self.approvals_line, line, 1)
        grid.addWidget(self.approvals_button, line, 2)
        self.pause_line = text_label(objectName="pause-line")
        self.pause_line.setWordWrap(True)
        self.pause_button = named(QPushButton(), "pause-button")
        self.pause_button.clicked.connect(self.pause_window_requested.emit)
        grid.addWidget(QLabel("<b>Acting</b>"), line + 1, 0, Qt.AlignmentFlag.AlignTop)
        grid.addWidget(self.pause_line, line + 1, 1)
        grid.addWidget(self.pause_button, line + 1, 2, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(grid)

        self.summary = text_label(objectName="summary")  # what was set aside, when anything was
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.demo_box = named(QFrame(), "demo-box")
        self.demo_box.setFrameShape(QFrame.Shape.StyledPanel)
        demo_row = QHBoxLayout(self.demo_box)
        demo_text = QLabel(DEMO_TEXT)
        demo_text.setWordWrap(True)
        demo_row.addWidget(demo_text, 1)
        self.demo_button = named(QPushButton("Try the &demo"), "try-demo")
        self.demo_button.clicked.connect(self.demo_requested.emit)
        demo_row.addWidget(self.demo_button)
        self.demo_box.hide()
        layout.addWidget(self.demo_box)
        self.launcher_box = named(QFrame(), "launcher-box")
        self.launcher_box.setFrameShape(QFrame.Shape.StyledPanel)
        launcher_row = QHBoxLayout(self.launcher_box)
        self.launcher_text = text_label("Start SkyTwin from your app menu like your other apps?")
        self.launcher_text.setWordWrap(True)
        launcher_row.addWidget(self.launcher_text, 1)
        self.launcher_button = named(QPushButton("Add to app &menu"), "add-launcher")
        self.launcher_button.clicked.connect(self.launcher_requested.emit)
        launcher_row.addWidget(self.launcher_button)
        self.launcher_box.hide()
        layout.addWidget(self.launcher_box)
        layout.addStretch(1)
        buttons = QHBoxLayout()
        self.settings_button = named(QPushButton("&Settings…"), "open-settings")
        self.settings_button.clicked.connect(self.settings_requested.emit)
        buttons.addWidget(self.settings_button)
        buttons.addStretch(1)
        self.quit_button = QPushButton("&Quit SkyTwin")
        self.quit_button.clicked.connect(QApplication.quit)  # the only way out when there is no tray
        buttons.addWidget(self.quit_button)
        layout.addLayout(buttons)
        self.banners: list[BannerWidget] = []
        self.offer_demo = True
        """False in the demo itself."""

    def launcher_added(self, message: str) -> None:
        self.launcher_text.setText(message)
        self.launcher_button.hide()

    def set_note(self, text: str | None) -> None:
        self.note.setText(text or "")
        self.note.setVisible(bool(text))

    def show_state(self, report: StatusReport, state: TrayState) -> None:
        self.report = report
        same = len(self.banners) == len(state.banners) and all(
            widget.same_place(banner) for widget, banner in zip(self.banners, state.banners, strict=True))
        if same:  # the same banners stay (new ones each poll cost memory), with today's words
            for widget, banner in zip(self.banners, state.banners, strict=True):
                if widget.banner != banner:
                    widget.reword(banner)
        else:
            for widget in self.banners:
                self.banner_box.removeWidget(widget)
                widget.deleteLater()
            self.banners = []
            for banner in state.banners:
                widget = BannerWidget(banner)
                widget.reconnect_clicked.connect(self.reconnect_requested.emit)
                self.banner_box.addWidget(widget)
                self.banners.append(widget)
        self.headline.setText(state.headline)
        for connector, (text, main, cancel) in self.rows.items():
            words_, verb = connector_text(connector, report)
            text.setText(words_)
            main.setProperty("verb", verb)
            main.setText({"connect": f"Connect {connector.display_name}",
                          "reconnect": f"Reconnect {connector.display_name}",
                          "copy-link": "Copy sign-in link"}.get(verb, ""))
            main.setVisible(bool(verb))
            cancel.setVisible(verb == "copy-link")
        waiting = report.pending_approvals
        self.approvals_line.setText(f"{waiting} action{'s' if waiting != 1 else ''} wait{'s' if waiting == 1 else ''} "
                                    "for your answer" if waiting else "Nothing waits for you")
        self.pause_line.setText(f"Auto-execution: {pause_line(report)}")
        self.pause_button.setText({PauseItem.RESUME: "&Resume…", PauseItem.OPERATOR: "Paused by administrator"}
                                  .get(state.pause_item, "&Pause now…"))
        self.pause_button.setEnabled(state.pause_item is not PauseItem.OPERATOR)
        lines = []
        if report.set_aside:
            lines.append(f"Set aside (could not be read, stored or judged; the rest goes on): {len(report.set_aside)}")
            lines += [f"    {entry.describe()}" for entry in report.set_aside[:SHOWN_SET_ASIDE]]
            if len(report.set_aside) > SHOWN_SET_ASIDE:
                lines.append("    … 'skytwin-desktop status' lists them all")
        self.summary.setText("\n".join(lines))
        self.summary.setVisible(bool(lines))
        self.demo_box.setVisible(self.offer_demo and report.nothing_connected)
        if self.isVisible():
            QTimer.singleShot(0, self, self._fit)

    def _row_action(self, connector: Connector) -> None:
        _, main, _ = self.rows[connector]
        verb = main.property("verb")
        if verb == "copy-link":
            wait = self.report.sign_in_for(connector) if self.report else None
            if wait is not None:
                QGuiApplication.clipboard().setText(wait.url)
                main.setText("Link copied")
        elif verb:
            self.connector_action.emit(connector, verb)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        QTimer.singleShot(0, self, self._fit)

    def _fit(self) -> None:
        """Grow (or shrink) to the wrapped text at the current width, so no line is ever cut off."""
        layout = self.layout()
        assert layout is not None, "built in __init__"
        width = max(self.width(), self.minimumWidth())
        height = layout.totalHeightForWidth(width) if layout.hasHeightForWidth() else layout.sizeHint().height()
        self.resize(width, max(height, layout.totalMinimumSize().height()))
