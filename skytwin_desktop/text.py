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
