"""The guard on every change at Google: connector methods that change remote data are marked
`@connector_write` and refuse to run unless the executor funnel is carrying out an action.

Kept apart from the funnel itself (`twin.executor`) so the connectors that are guarded need not
import the twin that guards them."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")
_executing: ContextVar[str | None] = ContextVar("skytwin_executing_action", default=None)


class ExecutionRefused(RuntimeError):
    """The funnel would not run this action (or a write was attempted outside the funnel)."""


def connector_write(method: Callable[P, R]) -> Callable[P, R]:
    """Mark a connector method that changes remote state; it then runs only inside the funnel."""

    @functools.wraps(method)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
        if _executing.get() is None:
            raise ExecutionRefused(f"{method.__qualname__} changes Google data and runs only through the executor")
        return method(*args, **kwargs)

    guarded.connector_write = True  # type: ignore[attr-defined]
    return guarded


@contextmanager
def executing(action_key: str) -> Iterator[None]:
    """Let guarded writes through while this action is carried out (for the executor only)."""
    token = _executing.set(action_key)
    try:
        yield
    finally:
        _executing.reset(token)
