"""Reading the windows as a person (or a screen reader) would."""

from __future__ import annotations

from PySide6.QtCore import Qt

from skytwin_desktop.ui.approvals_window import ApprovalsWindow


def pending_text(window: ApprovalsWindow, row: int) -> str:
    """What the waiting item in `row` says: its card's words, also what a screen reader reads."""
    return str(window.pending.item(row).data(Qt.ItemDataRole.AccessibleTextRole))
