"""The settings window. The Autonomy tab is generated from `settings_spec.AUTONOMY_SETTINGS`;
Connectors, Data and About show state and forward the person's intents to callbacks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from PySide6.QtCore import Qt, QTime, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QTabWidget,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from skytwin_desktop import __version__, words
from skytwin_desktop.domain import Connector, HealthStatus
from skytwin_desktop.intents import AppPaths
from skytwin_desktop.settings_spec import AUTONOMY_SETTINGS, Kind, SettingSpec
from skytwin_desktop.status import StatusReport, reading_line
from skytwin_desktop.ui.rules_tab import RulesTab, RuleStore
from skytwin_desktop.ui.state import pause_banner_text
from skytwin_desktop.ui.widgets import named, text_label


class QuietHoursEditor(QWidget):
    changed = Signal()

    def __init__(self) -> None:
        super().__init__()
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.enabled = QCheckBox("&On, from")
        self.start, self.end = QTimeEdit(), QTimeEdit()
        for edit in (self.start, self.end):
            edit.setDisplayFormat("HH:mm")
        row.addWidget(self.enabled)
        row.addWidget(self.start)
        row.addWidget(QLabel("to"))
        row.addWidget(self.end)
        row.addStretch(1)
        for signal in (self.enabled.toggled, self.start.editingFinished, self.end.editingFinished):
            signal.connect(lambda *_args: self.changed.emit())

    def value(self) -> tuple[str, str] | None:
        if not self.enabled.isChecked():
            return None
        return self.start.time().toString("HH:mm"), self.end.time().toString("HH:mm")

    def set_value(self, value: tuple[str, str] | None) -> None:
        self.enabled.setChecked(value is not None)
        start, end = value or ("22:00", "07:00")
        self.start.setTime(QTime.fromString(start, "HH:mm"))
        self.end.setTime(QTime.fromString(end, "HH:mm"))


def _editor(spec: SettingSpec) -> tuple[QWidget, Callable[[], Any], Callable[[Any], None], Any]:
    """(widget, read value, show value, change signal) for one setting kind."""
    if spec.kind is Kind.BOOL:
        box = QCheckBox(spec.label)
        return box, box.isChecked, box.setChecked, box.toggled
    if spec.kind is Kind.CHOICE:
        combo = QComboBox()
        for value, label in spec.choices:
            combo.addItem(label, value)
        return combo, combo.currentData, lambda v: combo.setCurrentIndex(max(0, combo.findData(v))), combo.activated
    if spec.kind is Kind.TIMEZONE:
        line = QLineEdit()
        return line, lambda: line.text().strip(), line.setText, line.editingFinished
    if spec.kind is Kind.QUIET_HOURS:
        editor = QuietHoursEditor()
        return editor, editor.value, editor.set_value, editor.changed
    text = QPlainTextEdit()
    text.setTabChangesFocus(True)
    text.setFixedHeight(60)
    return (text, lambda: [line for line in text.toPlainText().splitlines() if line.strip()],
            lambda v: text.setPlainText("\n".join(v)), text.textChanged)


class LoginSwitch(Protocol):
    """The platform's start-at-login entry (see `autostart`)."""

    def enabled(self) -> bool: ...
    def set(self, enabled: bool) -> object: ...


class SettingsWindow(QWidget):
    """`save(key, value)` stores one autonomy setting and raises on a bad value (shown inline)."""

    connector_action = Signal(object, str)  # connector, "connect" | "reconnect" | "disconnect"
    pause_window_requested = Signal()
    open_log_folder = Signal()
    copy_diagnostics_requested = Signal()
    delete_all_requested = Signal()

    def __init__(self, save: Callable[[str, Any], None], paths: AppPaths, rules: RuleStore | None = None,
                 login: LoginSwitch | None = None) -> None:
        super().__init__()
        self.setWindowTitle("SkyTwin settings")
        self.setObjectName("settings-window")
        self._save = save
        self.tabs = QTabWidget()
        layout = QVBoxLayout(self)
        layout.setSpacing(6)
        self.pause_banner = text_label(objectName="pause-banner")
        self.pause_banner.setWordWrap(True)
        self.pause_banner.setStyleSheet("background:#b91c1c; color:white; padding:6px; border-radius:4px;")
        self.pause_banner.hide()
        layout.addWidget(self.pause_banner)
        self.banner = text_label(objectName="banner")
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet("background:#f59e0b; color:#1f2937; padding:6px; border-radius:4px;")
        self.banner.hide()
        layout.addWidget(self.banner)
        layout.addWidget(self.tabs)
        self.login = login
        if login is not None:
            self.tabs.addTab(self._general_tab(login), "Gen&eral")
        self.tabs.addTab(self._connectors_tab(), "&Connectors")
        self.tabs.addTab(self._autonomy_tab(), "&Autonomy")
        self.rules_tab = RulesTab(rules) if rules is not None else None
        if self.rules_tab is not None:
            self.tabs.addTab(self.rules_tab, "&Rules")
        self.tabs.addTab(self._data_tab(paths), "&Data")
        self.tabs.addTab(self._about_tab(paths), "A&bout")

    # --- General -------------------------------------------------------------------------
    def _general_tab(self, login: LoginSwitch) -> QWidget:
        tab = QWidget()
        box = QVBoxLayout(tab)
        self.login_box = named(QCheckBox("Start SkyTwin when I &log in (into the tray, after a short delay)"),
                               "start-at-login")
        self.login_box.setToolTip("Writes your system's own login entry; what is shown is read back from it")
        self.login_box.toggled.connect(self._login_toggled)
        self.login_error = text_label(objectName="login-error")
        self.login_error.setStyleSheet("color:#b91c1c;")
        self.login_error.setWordWrap(True)
        box.addWidget(self.login_box)
        box.addWidget(self.login_error)
        box.addStretch(1)
        self.show_login()
        return tab

    def show_login(self) -> None:
        """What the system will really do at the next login (the entry can change behind our back)."""
        if self.login is None:
            return
        self.login_box.blockSignals(True)
        try:
            self.login_box.setChecked(self.login.enabled())
        finally:
            self.login_box.blockSignals(False)

    def _login_toggled(self, wanted: bool) -> None:
        if self.login is None:
            return
        try:
            self.login.set(wanted)
            self.login_error.setText("")
        except Exception as exc:  # noqa: BLE001 - in words, and the box shows what is really so
            self.login_error.setText(str(exc))
        self.show_login()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.show_login()

    # --- Connectors ----------------------------------------------------------------------
    def _connectors_tab(self) -> QWidget:
        tab = QWidget()
        form = QVBoxLayout(tab)
        self.connector_rows: dict[Connector, tuple[QLabel, QPushButton, QPushButton]] = {}
        for connector in Connector:
            row = QHBoxLayout()
            text = text_label(objectName=f"connector-{connector.value}")
            text.setWordWrap(True)
            main = named(QPushButton(), f"connect-{connector.value}")
            off = named(QPushButton(f"Disconnect {connector.display_name}"), f"disconnect-{connector.value}")
            main.clicked.connect(lambda _=False, c=connector, b=main: self.connector_action.emit(c, b.property("verb")))
            off.clicked.connect(lambda _=False, c=connector: self.connector_action.emit(c, "disconnect"))
            row.addWidget(text, 1)
            row.addWidget(main)
            row.addWidget(off)
            form.addLayout(row)
            self.connector_rows[connector] = (text, main, off)
        form.addStretch(1)
        return tab

    # --- Autonomy (generated) ------------------------------------------------------------
    def _autonomy_tab(self) -> QWidget:
        tab = QWidget()
        form = QFormLayout(tab)
        pause = QPushButton("&Pause or resume…")
        pause.clicked.connect(self.pause_window_requested.emit)
        form.addRow("Auto-execution", pause)
        self.editors: dict[str, tuple[QWidget, Callable[[], Any], Callable[[Any], None]]] = {}
        for spec in AUTONOMY_SETTINGS:
            widget, read, show, changed = _editor(spec)
            widget.setObjectName(f"setting-{spec.key}")
            widget.setToolTip(spec.tooltip)
            changed.connect(lambda *_args, key=spec.key: self._changed(key))
            form.addRow("" if spec.kind is Kind.BOOL else spec.label, widget)
            self.editors[spec.key] = (widget, read, show)
        self.error = text_label(objectName="setting-error")
        self.error.setStyleSheet("color:#b91c1c;")
        self.error.setWordWrap(True)
        form.addRow(self.error)
        return tab

    def _changed(self, key: str) -> None:
        if getattr(self, "_loading", False):
            return
        _, read, _ = self.editors[key]
        try:
            self._save(key, read())
            self.error.setText("")
        except Exception as exc:  # noqa: BLE001 - shown to the person, in words; nothing was saved
            self.error.setText(str(exc))

    def show_settings(self, values: dict[str, Any]) -> None:
        self._loading = True
        try:
            for key, (_, _, show) in self.editors.items():
                show(values[key])
        finally:
            self._loading = False

    # --- Data and About --------------------------------------------------------------------
    def _data_tab(self, paths: AppPaths) -> QWidget:
        tab = QWidget()
        box = QVBoxLayout(tab)
        box.addWidget(text_label(f"Your data folder: {paths.data_dir}"))
        logs = QPushButton("Open the &log folder")
        logs.clicked.connect(self.open_log_folder.emit)
        delete = named(QPushButton("Delete all my da&ta…"), "delete-all")
        delete.clicked.connect(self._confirm_delete)
        box.addWidget(logs)
        box.addWidget(delete)
        box.addStretch(1)
        return tab

    def ask(self, question: str) -> bool:
        answer = QMessageBox.warning(self, "Delete all my data", question,
                                     QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                                     QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Yes

    def _confirm_delete(self) -> None:
        if self.ask("Delete everything SkyTwin keeps about you: settings, rules, approvals, the decision log "
                    "and your Google sign-ins? Your mail and calendar at Google are not touched.") and self.ask(
                "This cannot be undone. Really delete all your SkyTwin data now?"):
            self.delete_all_requested.emit()

    def _about_tab(self, paths: AppPaths) -> QWidget:
        tab = QWidget()
        box = QVBoxLayout(tab)
        for line in (f"SkyTwin Desktop {__version__}", f"Database: {paths.database}", f"Logs: {paths.log_dir}"):
            label = text_label(line)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            box.addWidget(label)
        row = QHBoxLayout()
        self.diagnostics_button = named(QPushButton("Copy dia&gnostics"), "copy-diagnostics")
        self.diagnostics_button.setToolTip("Versions, paths, tray and notification support, connector states and "
                                           "recent errors, with sign-ins hidden: paste it into a bug report")
        self.diagnostics_button.clicked.connect(self._ask_diagnostics)
        self.diagnostics_note = text_label(objectName="diagnostics-note")
        self.diagnostics_note.setWordWrap(True)
        row.addWidget(self.diagnostics_button)
        row.addWidget(self.diagnostics_note, 1)
        box.addLayout(row)
        box.addStretch(1)
        return tab

    def _ask_diagnostics(self) -> None:
        self.diagnostics_button.setEnabled(False)
        self.diagnostics_note.setText("Gathering…")
        self.copy_diagnostics_requested.emit()

    def diagnostics_done(self, message: str) -> None:
        """The diagnostics were copied (or why not), in words."""
        self.diagnostics_button.setEnabled(True)
        self.diagnostics_note.setText(message)

    # --- state ---------------------------------------------------------------------------
    def show_report(self, report: StatusReport) -> None:
        for connector, (text, main, off) in self.connector_rows.items():
            state = report.connectors[connector]
            why = f" · {words.failure(state.error_code)}" if state.error_code else ""
            reading = f"\n{reading_line(connector, state, report.now)}" if state.not_reading else ""
            text.setText(f"{connector.display_name}: {words.status(state.status)}{reading}\n"
                         f"Last read: {words.when(state.last_success_at, report.now)} · "
                         f"Last failure: {words.when(state.last_failure_at, report.now)}{why}")
            waiting = report.sign_in_for(connector) is not None
            if waiting:
                text.setText(f"{connector.display_name}: waiting for you to sign in in your browser "
                             "(the status window can copy the sign-in link)")
            verb = "cancel" if waiting else "connect" if state.status is HealthStatus.DISABLED else "reconnect"
            main.setProperty("verb", verb)
            main.setText(f"Cancel {connector.display_name} sign-in" if waiting
                         else f"{verb.capitalize()} {connector.display_name}")
            off.setEnabled(state.status is not HealthStatus.DISABLED)
        broken = [connector.display_name for connector in report.needs_reauth]
        self.banner.setText(f"⚠ {' and '.join(broken)} {'needs' if len(broken) == 1 else 'need'} reconnecting: "
                            "your twin has stopped reading it." if broken else "")
        self.banner.setVisible(bool(broken))
        paused = pause_banner_text(report)
        self.pause_banner.setText(f"‖ {paused}" if paused else "")
        self.pause_banner.setVisible(bool(paused))
