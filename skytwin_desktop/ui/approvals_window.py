"""The approvals window: what waits for the person (what, why, which check asked, until when)
with Approve and Reject, and the activity list of recent decisions, each with its "why"."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from skytwin_desktop.errors import SkytwinError
from skytwin_desktop.intents import ActivityItem, PendingItem
from skytwin_desktop.ui.background import Background


class ApprovalsSource(Protocol):
    """Answers are shown with str(): plain words."""

    def pending(self) -> list[PendingItem]: ...
    def activity(self) -> list[ActivityItem]: ...
    def approve(self, approval_id: int) -> object: ...
    def reject(self, approval_id: int, note: str | None) -> object: ...
    def undo(self, action_id: int) -> object: ...


def _when(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%a %d %b %H:%M} UTC"


def describe_pending(item: PendingItem) -> str:
    twice = " · needs two confirmations" if item.confirmation == "dual" else ""
    proposed = f"\nThe twin's reason: {item.explanation}" if item.explanation else ""
    return (f"{item.kind.replace('_', ' ')} → {item.target}{proposed}\n"
            f"Why it waits: {item.reason} (decided by: {item.decided_by})\nExpires {_when(item.expires_at)}{twice}")


def describe_activity(item: ActivityItem) -> str:
    action = f" · action #{item.action_id}" if item.action_id else ""
    proposed = f"\nThe twin's reason: {item.explanation}" if item.explanation else ""
    return (f"{_when(item.at)} · {item.kind.replace('_', ' ')} → {item.target}\n{item.outcome}{action}{proposed}\n"
            f"Why: {item.why} (decided by: {item.decided_by})")


class ApprovalsWindow(QWidget):
    changed = Signal()
    """Emitted after an answer, so the tray's count updates at once."""

    def __init__(self, source: ApprovalsSource) -> None:
        super().__init__()
        self.source = source
        self.background = Background(self)
        self.busy = False
        self.setWindowTitle("SkyTwin approvals")
        self.setObjectName("approvals-window")
        self.setMinimumWidth(560)
        layout = QVBoxLayout(self)
        self.tabs = QTabWidget()
        layout.addWidget(self.tabs)
        pending_tab = QWidget()
        box = QVBoxLayout(pending_tab)
        self.pending = QListWidget(objectName="pending")
        self.pending.setWordWrap(True)
        self.pending.setAlternatingRowColors(True)
        box.addWidget(self.pending)
        row = QHBoxLayout()
        self.approve_button = QPushButton("&Approve", objectName="approve")
        self.reject_button = QPushButton("&Reject…", objectName="reject")
        row.addWidget(self.approve_button)
        row.addWidget(self.reject_button)
        row.addStretch(1)
        box.addLayout(row)
        self.message = QLabel(objectName="message")
        self.message.setWordWrap(True)
        box.addWidget(self.message)
        activity_tab = QWidget()
        box = QVBoxLayout(activity_tab)
        self.activity = QListWidget(objectName="activity")
        self.activity.setWordWrap(True)
        self.activity.setAlternatingRowColors(True)
        box.addWidget(self.activity)
        row = QHBoxLayout()
        self.undo_button = QPushButton("&Undo", objectName="undo")
        self.undo_button.setToolTip("Reverse what the twin did (un-archive, remove the label, reset the answer)")
        row.addWidget(self.undo_button)
        row.addStretch(1)
        box.addLayout(row)
        self.activity_message = QLabel(objectName="activity-message")
        self.activity_message.setWordWrap(True)
        box.addWidget(self.activity_message)
        self.tabs.addTab(pending_tab, "&Waiting for you")
        self.tabs.addTab(activity_tab, "A&ctivity")
        self.approve_button.clicked.connect(self.approve_selected)
        self.reject_button.clicked.connect(self.reject_selected)
        self.undo_button.clicked.connect(self.undo_selected)
        self.activity.currentItemChanged.connect(lambda *_: self._enable())
        self.reload()

    def reload(self) -> None:
        self.pending.clear()
        for item in self.source.pending():
            entry = QListWidgetItem(describe_pending(item))
            entry.setData(Qt.ItemDataRole.UserRole, item)
            self.pending.addItem(entry)
        if self.pending.count():
            self.pending.setCurrentRow(0)
        self.activity.clear()
        for done in self.source.activity():
            entry = QListWidgetItem(describe_activity(done))
            entry.setData(Qt.ItemDataRole.UserRole, done)
            self.activity.addItem(entry)
        if self.activity.count():
            self.activity.setCurrentRow(0)
        self._enable()

    def _enable(self) -> None:
        self.approve_button.setEnabled(bool(self.pending.count()) and not self.busy)
        self.reject_button.setEnabled(bool(self.pending.count()) and not self.busy)
        chosen = self.activity.currentItem()
        item: ActivityItem | None = chosen.data(Qt.ItemDataRole.UserRole) if chosen else None
        self.undo_button.setEnabled(bool(item and item.undoable) and not self.busy)

    def _start(self, label: QLabel, text: str) -> None:
        self.busy = True
        label.setText(text)
        self._enable()

    def selected(self) -> PendingItem | None:
        entry = self.pending.currentItem()
        return entry.data(Qt.ItemDataRole.UserRole) if entry else None

    def confirm_twice(self, item: PendingItem) -> bool:
        """Dual confirmation asks a second, separate question (tests answer it)."""
        answer = QMessageBox.question(self, "Confirm again", f"Really let your twin do this?\n\n{describe_pending(item)}",
                                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                                      QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Yes

    def ask_note(self) -> tuple[str, bool]:
        return QInputDialog.getText(self, "Reject", "Why not? (optional)")

    def approve_selected(self) -> None:
        """Approving carries the action out at Google, so the work runs off the GUI thread."""
        item = self.selected()
        if item is None or self.busy:
            return

        def first_answer(message: str) -> None:
            if item.confirmation == "dual" and "second confirmation" in message:
                if not self.confirm_twice(item):
                    self._done("Not approved: the second confirmation was not given.")
                    return
                self.background.run("approve", lambda: str(self.source.approve(item.id)), self._done)
                return
            self._done(message)

        self._start(self.message, "Approving…")
        self.background.run("approve", lambda: str(self.source.approve(item.id)), first_answer)

    def undo_selected(self) -> None:
        chosen = self.activity.currentItem()
        item: ActivityItem | None = chosen.data(Qt.ItemDataRole.UserRole) if chosen else None
        if item is None or item.action_id is None or self.busy:
            return
        action_id = item.action_id
        self._start(self.activity_message, "Undoing…")

        def finished(message: str) -> None:
            self.activity_message.setText(message)
            self._done(self.message.text())

        self.background.run("undo", lambda: str(self.source.undo(action_id)), finished)

    def reject_selected(self) -> None:
        item = self.selected()
        if item is None or self.busy:
            return
        note, ok = self.ask_note()
        if not ok:
            return
        try:
            message = str(self.source.reject(item.id, note.strip() or None))
        except SkytwinError as exc:  # answered elsewhere meanwhile (the CLI, say): say so, show the queue now
            message = str(exc)
        self._done(message)

    def _done(self, message: str) -> None:
        self.busy = False
        self.message.setText(message)
        self.reload()
        self.changed.emit()
