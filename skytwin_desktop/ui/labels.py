"""Labels that show their text as written.

A QLabel reads text that merely looks like HTML as rich text, and mail subjects, senders, Google's
error words, account names and folder names can all hold a `<`: a hostile subject would become a
link, an image or formatting that passes for SkyTwin's own words. Every label whose text is not a
fixed phrase of ours is made here, as plain text."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel


def text_label(text: str = "", **properties: Any) -> QLabel:
    """A QLabel (same arguments) that never reads its text as rich text."""
    label = QLabel(text, **properties)
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label
