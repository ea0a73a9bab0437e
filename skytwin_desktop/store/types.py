"""Column types that make SQLite's loose typing strict enough for us."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from skytwin_desktop.store.stamps import TIMESTAMP_FORMAT_SQL, from_text, to_text

DB_NOW = text(f"(strftime('{TIMESTAMP_FORMAT_SQL}', 'now'))")
"""The database's own clock, in the same fixed-width UTC text every timestamp column holds."""


class UTCDateTime(TypeDecorator[datetime]):
    """A UTC instant stored as fixed-width text (see `store.stamps`); values come back
    timezone-aware, and naive values are refused."""

    impl = String(23)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> str | None:
        return None if value is None else to_text(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> datetime | None:
        return from_text(value)
