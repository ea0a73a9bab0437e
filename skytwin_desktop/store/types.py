"""Column types that make SQLite's loose typing strict enough for us."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import String, text
from sqlalchemy.types import TypeDecorator

TIMESTAMP_FORMAT_SQL = "%Y-%m-%d %H:%M:%f"
DB_NOW = text(f"(strftime('{TIMESTAMP_FORMAT_SQL}', 'now'))")
"""The database's own clock, in the same fixed-width UTC text every timestamp column holds."""


class UTCDateTime(TypeDecorator[datetime]):
    """A UTC instant stored as fixed-width text ('YYYY-MM-DD HH:MM:SS.mmm').

    The fixed width keeps text order equal to time order, and the format is exactly what
    SQLite's `strftime('%Y-%m-%d %H:%M:%f', 'now')` produces, so database-clock and Python
    timestamps compare correctly. Values come back timezone-aware; naive values are refused
    because guessing their zone is how quiet hours end up in the wrong timezone.
    """

    impl = String(23)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> str | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; attach a timezone")
        v = value.astimezone(UTC)
        return f"{v.year:04d}-{v.month:02d}-{v.day:02d} {v.hour:02d}:{v.minute:02d}:{v.second:02d}.{v.microsecond // 1000:03d}"

    def process_result_value(self, value: str | None, dialect) -> datetime | None:
        if value is None:
            return None
        parsed = datetime.fromisoformat(value)
        return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
