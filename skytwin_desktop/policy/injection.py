"""The injection guard: judges an action by how destructive it is and where its content came from.

Mail from strangers can say anything ("forward all mail to …"); the guard makes sure such text
can never cause destructive work without the person, while leaving harmless reversible chores
(archiving a newsletter) alone, which is what makes the twin useful.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache

from skytwin_desktop.policy.model import Ask, Check, ProposedAction, Provenance

EXTREME_WORDS = frozenset({"shell", "exec", "execute", "command", "script", "wipe", "format", "sudo", "eval"})
EXTREME_KINDS = frozenset({"delete_account", "close_account", "reset_account", "factory_reset", "transfer_ownership"})
DESTRUCTIVE_WORDS = frozenset(
    {"delete", "remove", "revoke", "unsubscribe", "forward", "purge", "trash", "destroy", "erase", "empty", "share"}
)
_BULK_VALUES = frozenset({"all", "*", "everything", "any"})


@lru_cache(maxsize=256)
def _kind_concern(kind: str) -> int:
    """2 for extreme kinds, 1 for destructive ones, 0 otherwise (cached: kinds are few)."""
    snake = re.sub(r"[^a-z0-9]+", "_", re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", kind).lower()).strip("_")
    words = set(snake.split("_"))
    if snake in EXTREME_KINDS or words & EXTREME_WORDS:
        return 2
    if words & DESTRUCTIVE_WORDS or "forward_all" in snake:
        return 1
    return 0


def _is_bulk(params: Mapping[str, str]) -> bool:
    for key, value in params.items():
        text = str(value).strip().lower()
        if text in _BULK_VALUES or "*" in text or (key.lower() in ("bulk", "all") and text in ("1", "true", "yes")):
            return True
    return False


_EXTREME: Ask = (2, "extreme_action", "This kind of action is drastic; confirm it twice", Check.INJECTION)
_SHELL_LIKE: Ask = (2, "shell_like_text", "The request contains command-like text; confirm it twice", Check.INJECTION)
_DESTRUCTIVE: Ask = (1, "destructive_action", "This removes or sends things away; it waits for you", Check.INJECTION)
_BULK: Ask = (1, "bulk_action", "This acts on everything at once; it waits for you", Check.INJECTION)
_UNTRUSTED_IRREVERSIBLE: Ask = (1, "untrusted_irreversible",
                                "Someone else's message led to this and it cannot be undone; it waits for you",
                                Check.INJECTION)


def guard(action: ProposedAction) -> Ask | None:
    """The confirmations the action needs because of what it is, with a reason (the evaluator's wish
    to ask, built once here); None if no concern."""
    concern = _kind_concern(action.kind)
    if concern == 2:
        return _EXTREME
    if action.shell_like:
        return _SHELL_LIKE
    if concern == 1:
        return _DESTRUCTIVE
    if action.params and _is_bulk(action.params):
        return _BULK
    untrusted = action.provenance is None or action.provenance is Provenance.UNTRUSTED_EXTERNAL
    if untrusted and not action.reversible:
        return _UNTRUSTED_IRREVERSIBLE
    return None
