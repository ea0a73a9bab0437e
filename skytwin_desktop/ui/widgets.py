"""Small makers of widgets used across the windows.

Labels show their text as written: a QLabel reads text that merely looks like HTML as rich text,
and mail subjects, senders, Google's error words, account names and folder names can all hold a
`<`: a hostile subject would become a link, an image or formatting that passes for SkyTwin's own
words. Every label whose text is not a fixed phrase of ours is made here, as plain text."""

from __future__ import annotations

from typing import Any, TypeVar

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

W = TypeVar("W", bound=QWidget)


def named(widget: W, name: str) -> W:
    """The widget with its object name: what tests, style sheets and accessibility tools find it by."""
    widget.setObjectName(name)
    return widget


def text_label(text: str = "", **properties: Any) -> QLabel:
    """A QLabel (same arguments) that never reads its text as rich text."""
    label = QLabel(text, **properties)
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label
