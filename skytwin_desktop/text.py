"""Text from outside (mail headers, event titles) made safe to store and to show.

SQLite stores UTF-8: a string with a lone surrogate (from a broken header, or JSON's "\ud800")
cannot be encoded and makes the whole insert fail. Such characters become U+FFFD here, before
anything is stored."""

from __future__ import annotations

import re

_SURROGATE = re.compile("[\ud800-\udfff]")


def storable(text: str) -> str:
    """`text` with every character SQLite cannot store as UTF-8 replaced by U+FFFD."""
    return _SURROGATE.sub("\ufffd", text) if _SURROGATE.search(text) else text


_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
"""What a terminal obeys instead of showing: C0 controls but newline and tab (escape sequences
start with ESC), DEL, C1 controls (CSI is 0x9b on some terminals) and the bidirectional overrides
that make a line read other than it is."""


def printable(text: str) -> str:
    """`text` safe to write to a terminal: every control character shown as its escape (`\\x1b`,
    `\\u202e`), so a subject carrying `ESC]0;…` or `ESC[2J` is seen, not obeyed."""
    return _CONTROL.sub(_escape, text) if _CONTROL.search(text) else text


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
