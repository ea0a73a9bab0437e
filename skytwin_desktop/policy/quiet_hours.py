"""Quiet hours, judged on the person's own wall clock (not the machine's, not UTC)."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo


def parse_hhmm(text: str) -> time:
    """'HH:MM' (24-hour) → time; anything else is a ValueError with a clear message."""
    try:
        hours, minutes = text.strip().split(":")
        if len(hours) != 2 or len(minutes) != 2:
            raise ValueError
        return time(int(hours), int(minutes))
    except ValueError:
        raise ValueError(f"expected a time as HH:MM (24-hour), got {text!r}") from None


def in_quiet_hours(now: datetime, window: tuple[time, time] | None, zone: ZoneInfo) -> bool:
    """[start, end) on the local wall clock; start > end wraps past midnight; start == end never.

    Comparing wall-clock times (rather than adding durations to instants) keeps the window right
    on DST days: 22:00–07:00 stays 22:00–07:00 local, whatever the night's length.
    """
    if window is None:
        return False
    start, end = window
    if start == end:
        return False
    try:
        local = now.astimezone(zone).time()
    except OverflowError:  # an instant at the very edge of the calendar: fail closed, ask
        return True
    if start < end:
        return start <= local < end
    return local >= start or local < end
