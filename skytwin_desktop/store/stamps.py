"""Timestamps as the database holds them: fixed-width UTC text ('YYYY-MM-DD HH:MM:SS.mmm').

The fixed width keeps text order equal to time order, and the format is exactly what SQLite's
`strftime('%Y-%m-%d %H:%M:%f', 'now')` produces, so database-clock and Python timestamps compare
correctly. Plain functions (no SQLAlchemy), so a light read can use them too.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import overload

TIMESTAMP_FORMAT_SQL = "%Y-%m-%d %H:%M:%f"


def to_text(value: datetime) -> str:
    """Naive values are refused: guessing their zone is how quiet hours end up in the wrong timezone."""
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column; attach a timezone")
    v = value.astimezone(UTC)
    return (f"{v.year:04d}-{v.month:02d}-{v.day:02d} "
            f"{v.hour:02d}:{v.minute:02d}:{v.second:02d}.{v.microsecond // 1000:03d}")


@overload
def from_text(value: str) -> datetime: ...
@overload
def from_text(value: str | None) -> datetime | None: ...
def from_text(value: str | None) -> datetime | None:
    """Timezone-aware UTC, or None."""
    if value is None:
        return None
    parsed = datetime.fromisoformat(value)
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
