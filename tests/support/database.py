"""Another program at the database file, as the store meets it in real life."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def writer_holding(database: Path) -> Iterator[sqlite3.Connection]:
    """Another program in the middle of a long write transaction."""
    other = sqlite3.connect(database, isolation_level=None, timeout=0)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("UPDATE users SET display_name = display_name || ''")
        yield other
    finally:
        other.execute("ROLLBACK")
        other.close()
