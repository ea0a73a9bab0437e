"""The approvals window: what waits for the person (what, from whom, why it waits, until when),
each with its own Approve and Reject, and the activity list of recent decisions with their "why".

Keyboard: arrows choose an item, Alt+A approves it and Alt+R rejects it (the row under the list
acts on the chosen item); the buttons on each item are for the mouse."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from skytwin_desktop import words
from skytwin_desktop.clock import utc_now
from skytwin_desktop.domain import Confirmation, Urgency
from skytwin_desktop.errors import SkytwinError
from skytwin_desktop.intents import ActivityItem, PendingItem
from skytwin_desktop.ui.background import Background
from skytwin_desktop.ui.widgets import W, named, text_label


class ApprovalsSource(Protocol):
    """Answers are shown with str(): plain words."""

    def now(self) -> datetime: ...
    def pending(self) -> list[PendingItem]: ...
    def activity(self) -> list[ActivityItem]: ...
    def approve(self, approval_id: int) -> object: ...
    def reject(self, approval_id: int, note: str | None) -> object: ...
    def undo(self, action_id: int) -> object: ...


def describe_pending(item: PendingItem, now: datetime | None = None) -> str:
    now = now or utc_now()
    extra = "".join((" · needs two confirmations" if item.confirmation == Confirmation.DUAL.value else "",
                     " · urgent" if item.urgency == Urgency.IMMEDIATE.value else ""))
    proposed = f"\nThe twin's reason: {item.explanation}" if item.explanation else ""
    return (f"{words.kind(item.kind)}: {item.target}{proposed}\n"
            f"Why it waits: {item.reason} (decided by {words.check(item.decided_by)})\n"
            f"Answer by {words.when(item.expires_at, now)}{extra}")


def describe_activity(item: ActivityItem, now: datetime | None = None) -> str:
    action = f" · action #{item.action_id}" if item.action_id else ""
    proposed = f"\nThe twin's reason: {item.explanation}" if item.explanation else ""
    return (f"{words.when(item.at, now or utc_now())} · {words.kind(item.kind)}: {item.target}\n"
            f"{item.outcome}{action}{proposed}\nWhy: {item.why} (decided by {words.check(item.decided_by)})")


class ItemCard(QWidget):
    """One waiting item, readable whole, with its own Approve and Reject.

    Its children are found by name, never kept in Python attributes: a card is deleted with the
    list's items, and a Python reference cycle through it could be collected on a worker thread,
    finalising Qt objects off the GUI thread."""

    def __init__(self, text: str, approve: Callable[[], None], reject: Callable[[], None]) -> None:
        super().__init__()
        row = QHBoxLayout(self)
        row.setContentsMargins(6, 4, 6, 4)
        label = text_label(text, objectName="card-text")
        label.setWordWrap(True)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        row.addWidget(label, 1)
        buttons = QVBoxLayout()
        for name, title, act in (("card-approve", "Approve", approve), ("card-reject", "Reject…", reject)):
            button = named(QPushButton(title), name)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the keyboard uses the row under the list
            button.clicked.connect(act)
            buttons.addWidget(button)
        buttons.addStretch(1)
        row.addLayout(buttons)

    @property
    def label(self) -> QLabel:
        return self._child(QLabel, "card-text")

    @property
    def approve(self) -> QPushButton:
        return self._child(QPushButton, "card-approve")

    @property
    def reject(self) -> QPushButton:
        return self._child(QPushButton, "card-reject")

    def _child(self, kind: type[W], name: str) -> W:
        found = self.findChild(kind, name)
        if found is None:
            raise LookupError(f"an approval card without its {name}")
        return found


class PendingList(QListWidget):
    """A list whose items are cards: each re-measured when the width changes, so none is cut."""

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.fit_items()

    def fit_items(self) -> None:
        width = self.viewport().width()
        for row in range(self.count()):
            entry = self.item(row)
            card = self.itemWidget(entry)
            if card is not None:
                entry.setSizeHint(QSize(width, card.heightForWidth(width)))


def _page(list_name: str, message_name: str, *buttons: QPushButton,
          view_class: type[QListWidget] = QListWidget) -> tuple[QWidget, QListWidget, QLabel]:
    """A tab: a list, its buttons in a row, and a line for what came of pressing them."""
    page = QWidget()
    box = QVBoxLayout(page)
    view = named(view_class(), list_name)
    view.setWordWrap(True)
    view.setResizeMode(QListView.ResizeMode.Adjust)  # re-wrap on resize: no item is cut mid-line
    view.setAlternatingRowColors(True)
    box.addWidget(view)
    row = QHBoxLayout()
    for button in buttons:
        row.addWidget(button)
    row.addStretch(1)
    box.addLayout(row)
    message = text_label(objectName=message_name)
    message.setWordWrap(True)
    box.addWidget(message)
    return page, view, message


def _fill(view: QListWidget, items: Sequence[Any], describe: Callable[[Any], str],
          card: Callable[[Any, str], QWidget] | None = None) -> None:
    """Show the items, each holding its data (and, given `card`, drawn as a card with buttons), with
    the first one chosen. The words stay the item's accessible text either way."""
    view.clear()
    for item in items:
        text = describe(item)
        entry = QListWidgetItem("" if card else text)
        entry.setData(Qt.ItemDataRole.UserRole, item)
        entry.setData(Qt.ItemDataRole.AccessibleTextRole, text)
        view.addItem(entry)
        if card is not None:
            view.setItemWidget(entry, card(item, text))
    if isinstance(view, PendingList):
        view.fit_items()
    if view.count():
        view.setCurrentRow(0)


def _ids(items: Sequence[Any]) -> list[tuple[int, str]]:
    return [(item.id, getattr(item, "status", getattr(item, "outcome", ""))) for item in items]


def _shown_ids(view: QListWidget) -> list[tuple[int, str]]:
    return _ids([view.item(row).data(Qt.ItemDataRole.UserRole) for row in range(view.count())])


def _choose(view: QListWidget, item: Any) -> None:
    """Select the entry for `item` again, if it is still listed."""
    for row in range(view.count()):
        if item is not None and view.item(row).data(Qt.ItemDataRole.UserRole).id == item.id:
            view.setCurrentRow(row)
            return


def _current(view: QListWidget) -> Any:
    entry = view.currentItem()
    return entry.data(Qt.ItemDataRole.UserRole) if entry else None


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
        self.resize(720, 520)  # room for three items whole; never more than the screen (see the tray)
        layout = QVBoxLayout(self)
        self.tabs = QTabWidget()
        layout.addWidget(self.tabs)
        self.approve_button = named(QPushButton("&Approve"), "approve")
        self.reject_button = named(QPushButton("&Reject…"), "reject")
        pending_tab, self.pending, self.message = _page("pending", "message", self.approve_button,
                                                        self.reject_button, view_class=PendingList)
        self.undo_button = named(QPushButton("&Undo"), "undo")
        self.undo_button.setToolTip("Reverse what the twin did (un-archive, remove the label, reset the answer)")
        activity_tab, self.activity, self.activity_message = _page("activity", "activity-message", self.undo_button)
        self.tabs.addTab(pending_tab, "&Waiting for you")
        self.tabs.addTab(activity_tab, "A&ctivity")
        self.approve_button.clicked.connect(self.approve_selected)
        self.reject_button.clicked.connect(self.reject_selected)
        self.undo_button.clicked.connect(self.undo_selected)
        self.activity.currentItemChanged.connect(lambda *_: self._enable())
        self.reload()

    def reload(self) -> None:
        self._show(self.source.pending(), self.source.activity())
        self._enable()

    def _show(self, pending: Sequence[PendingItem], activity: Sequence[ActivityItem]) -> None:
        now = self.source.now()
        _fill(self.pending, pending, lambda item: describe_pending(item, now), self._card)
        _fill(self.activity, activity, lambda item: describe_activity(item, now))

    def _card(self, item: PendingItem, text: str) -> ItemCard:
        item_id = item.id
        card = ItemCard(text, lambda: self._choose_and(item_id, self.approve_selected),
                        lambda: self._choose_and(item_id, self.reject_selected))
        card.setEnabled(not self.busy)
        return card

    def _choose_and(self, item_id: int, act: Callable[[], None]) -> None:
        for row in range(self.pending.count()):
            if self.pending.item(row).data(Qt.ItemDataRole.UserRole).id == item_id:
                self.pending.setCurrentRow(row)
                act()
                return

    def follow(self) -> None:
        """Something changed elsewhere (a poll, the CLI): show it, keeping the person's place when
        what is listed did not change. Not while an answer is on its way."""
        if self.busy or not self.isVisible():
            return
        pending, activity = self.source.pending(), self.source.activity()
        if _ids(pending) != _shown_ids(self.pending) or _ids(activity) != _shown_ids(self.activity):
            keep = _current(self.pending)
            self._show(pending, activity)
            _choose(self.pending, keep)
            self._enable()

    def _enable(self) -> None:
        self.approve_button.setEnabled(bool(self.pending.count()) and not self.busy)
        self.reject_button.setEnabled(bool(self.pending.count()) and not self.busy)
        for row in range(self.pending.count()):
            card = self.pending.itemWidget(self.pending.item(row))
            if card is not None:
                card.setEnabled(not self.busy)
        item: ActivityItem | None = _current(self.activity)
        self.undo_button.setEnabled(bool(item and item.undoable) and not self.busy)

    def _start(self, label: QLabel, text: str) -> None:
        self.busy = True
        label.setText(text)
        self._enable()

    def selected(self) -> PendingItem | None:
        item: PendingItem | None = _current(self.pending)
        return item

    def confirm_twice(self, item: PendingItem) -> bool:
        """Dual confirmation asks a second, separate question (tests answer it)."""
        answer = QMessageBox.question(self, "Confirm again",
                                      f"Really let your twin do this?\n\n{describe_pending(item, self.source.now())}",
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
        item: ActivityItem | None = _current(self.activity)
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
