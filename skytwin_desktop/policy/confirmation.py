"""Approval rules that need no storage: when an approval expires, and when dual confirmation is complete."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from skytwin_desktop.domain import Confirmation, Urgency

TIME_TO_ANSWER: dict[Urgency, timedelta] = {
    Urgency.IMMEDIATE: timedelta(minutes=15),
    Urgency.NORMAL: timedelta(hours=24),
    Urgency.LOW: timedelta(hours=72),
}
DUAL_WINDOW = timedelta(minutes=10)
"""The second confirmation of a dual-confirmation action must come within this of the first."""


def expires_at(urgency: Urgency | str, created: datetime) -> datetime:
    return created + TIME_TO_ANSWER[Urgency(urgency)]


@dataclass(frozen=True, slots=True)
class ConfirmationState:
    received: int
    first_at: datetime | None
    complete: bool


def confirm(level: Confirmation | str, received: int, first_at: datetime | None, now: datetime) -> ConfirmationState:
    """Record one confirmation. Dual needs two separate ones within DUAL_WINDOW; a first
    confirmation older than that no longer counts, and this one starts the count again."""
    level = Confirmation(level)
    if level is not Confirmation.DUAL:
        return ConfirmationState(received + 1, first_at or now, True)
    if received >= 1 and first_at is not None and now - first_at <= DUAL_WINDOW:
        return ConfirmationState(received + 1, first_at, True)
    return ConfirmationState(1, now, False)
