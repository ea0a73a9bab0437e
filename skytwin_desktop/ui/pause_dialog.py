"""The pause window, which is itself the confirmation of both transitions: it asks the question,
shows the administrator's and the person's pause apart, takes an optional reason, and pauses (or
resumes) with one press. From the tray that is two clicks: "Pause now…", then "Pause now"."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from skytwin_desktop import words
from skytwin_desktop.domain import PAUSE_REASON_MAX
from skytwin_desktop.status import StatusReport
from skytwin_desktop.ui.widgets import named, text_label

PAUSE_QUESTION = "Pause your twin? Every action will go to Approvals for you to review."
RESUME_QUESTION = "Resume? Your twin will act on signals again."


class PauseDialog(QDialog):
    """Emits `pause_requested(reason)` or `resume_requested()` once the person confirmed."""

    pause_requested = Signal(str)
    resume_requested = Signal()

    def __init__(self, report: StatusReport, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Pause SkyTwin")
        self.setObjectName("pause-dialog")
        layout = QVBoxLayout(self)
        self.question = text_label(objectName="question")
        self.question.setWordWrap(True)
        self.question.setStyleSheet("font-weight: bold;")
        layout.addWidget(self.question)
        self.operator_line = text_label(objectName="operator-line")
        self.person_line = text_label(objectName="person-line")
        for line in (self.operator_line, self.person_line):
            line.setWordWrap(True)
            layout.addWidget(line)
        self.reason_label = QLabel(f"&Reason (optional, up to {PAUSE_REASON_MAX} characters):")
        self.reason = named(QPlainTextEdit(), "reason")
        self.reason.setTabChangesFocus(True)
        self.reason.setFixedHeight(70)
        self.reason_label.setBuddy(self.reason)
        self.counter = text_label(objectName="counter")
        self.reason.textChanged.connect(self._count)
        layout.addWidget(self.reason_label)
        layout.addWidget(self.reason)
        layout.addWidget(self.counter)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.toggle = named(QPushButton(), "toggle")
        self.toggle.setDefault(True)
        self.buttons.addButton(self.toggle, QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.rejected.connect(self.reject)  # Escape cancels too
        self.toggle.clicked.connect(self._confirmed)
        layout.addWidget(self.buttons)
        self.show_report(report)

    def show_report(self, report: StatusReport) -> None:
        self.report = report
        self.operator_line.setText(
            "Administrator: auto-execution is switched off for everyone on this computer "
            "(SKYTWIN_AUTO_EXECUTE_DISABLED). Only the administrator can switch it back on."
            if report.operator_paused else "Administrator: not paused."
        )
        if report.user_paused:
            since = f" {words.when(report.paused_at, report.now)}" if report.paused_at else ""
            reason = f" Reason: {report.paused_reason}" if report.paused_reason else ""
            self.person_line.setText(f"You: paused{since}.{reason}")
            self.question.setText(RESUME_QUESTION)
            self.toggle.setText("&Resume")
        else:
            self.person_line.setText("You: not paused. Actions your settings allow run by themselves.")
            self.question.setText(PAUSE_QUESTION)
            self.toggle.setText("&Pause now")
        for widget in (self.reason_label, self.reason, self.counter):
            widget.setVisible(not report.user_paused)
        (self.toggle if report.user_paused else self.reason).setFocus()
        self._count()

    def _count(self) -> None:
        used = len(self.reason.toPlainText())
        self.counter.setText(f"{used} / {PAUSE_REASON_MAX}")
        self.toggle.setEnabled(self.report.user_paused or used <= PAUSE_REASON_MAX)

    def _confirmed(self) -> None:
        """The press on this window's button is the confirmation: no second question."""
        if self.report.user_paused:
            self.resume_requested.emit()
        else:
            self.pause_requested.emit(self.reason.toPlainText().strip())
        self.accept()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.reject()
            return
        super().keyPressEvent(event)
