"""The approvals window: what waits for the person (what, why, which check asked, until when)
with Approve and Reject, and the activity list of recent decisions, each with its "why"."""

from __future__ import annotations

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

from skytwin_desktop.intents import ActivityItem, PendingItem
from skytwin_desktop.store.types import iso_utc


class ApprovalsSource(Protocol):
    def pending(self) -> list[PendingItem]: ...
    def activity(self) -> list[ActivityItem]: ...
    def approve(self, approval_id: int) -> str: ...
    def reject(self, approval_id: int, note: str | None) -> str: ...


def describe_pending(item: PendingItem) -> str:
    twice = " · needs two confirmations" if item.confirmation == "dual" else ""
    return (f"{item.kind} → {item.target}\nWhy it waits: {item.reason} (decided by: {item.decided_by})\n"
            f"Expires {iso_utc(item.expires_at)}{twice}")


class ApprovalsWindow(QWidget):
    changed = Signal()
    """Emitted after an answer, so the tray's count updates at once."""

    def __init__(self, source: ApprovalsSource) -> None:
        super().__init__()
        self.source = source
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
        self.activity = QListWidget(objectName="activity")
        self.activity.setWordWrap(True)
        self.tabs.addTab(pending_tab, "&Waiting for you")
        self.tabs.addTab(self.activity, "A&ctivity")
        self.approve_button.clicked.connect(self.approve_selected)
        self.reject_button.clicked.connect(self.reject_selected)
        self.reload()

    def reload(self) -> None:
        self.pending.clear()
        for item in self.source.pending():
            entry = QListWidgetItem(describe_pending(item))
            entry.setData(Qt.ItemDataRole.UserRole, item)
            self.pending.addItem(entry)
        if self.pending.count():
            self.pending.setCurrentRow(0)
        self.approve_button.setEnabled(bool(self.pending.count()))
        self.reject_button.setEnabled(bool(self.pending.count()))
        self.activity.clear()
        for item in self.source.activity():
            self.activity.addItem(f"{iso_utc(item.at)} · {item.kind} → {item.target}: {item.outcome}\n{item.why}")

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
        item = self.selected()
        if item is None:
            return
        message = self.source.approve(item.id)
        if item.confirmation == "dual" and "second confirmation" in message:
            message = self.source.approve(item.id) if self.confirm_twice(item) else "Not approved: the second confirmation was not given."
        self._done(message)

    def reject_selected(self) -> None:
        item = self.selected()
        if item is None:
            return
        note, ok = self.ask_note()
        if ok:
            self._done(self.source.reject(item.id, note.strip() or None))

    def _done(self, message: str) -> None:
        self.message.setText(message)
        self.reload()
        self.changed.emit()
