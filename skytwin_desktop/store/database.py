"""Opening the SQLite file safely.

Before anything writes to an existing file we look at it read-only: a file that is not SQLite,
fails SQLite's own integrity check, belongs to another program or was written by a newer
SkyTwin is reported and left byte-for-byte as it was. We never delete or rebuild a person's data.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, create_engine, event

from skytwin_desktop.errors import CorruptDatabaseError, ForeignDatabaseError, StoreError

SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 5000
_OWNER_ONLY = 0o600


@dataclass(frozen=True)
class FileInspection:
    """What a read-only look at an existing database file found."""

    exists: bool
    revision: str | None = None
    """The Alembic revision stamped in the file, or None for a new or empty database."""


def inspect_file(path: Path) -> FileInspection:
    """Check an existing file without changing it; raise a `StoreError` if it is unusable."""
    if not path.exists():
        return FileInspection(exists=False)
    if not path.is_file():
        raise StoreError(f"Database path {path} exists but is not a file; it was left untouched.")
    if path.stat().st_size == 0:
        return FileInspection(exists=True)
    try:
        with path.open("rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise StoreError(f"Cannot read the database {path}: {exc.strerror}.") from None
    if header != SQLITE_HEADER:
        raise _damaged(path, "not an SQLite file")
    try:
        connection = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
    except sqlite3.Error as exc:
        raise StoreError(f"Cannot open the database {path} to check it: {exc}.") from None
    tables: set[str] = set()
    stamp = None
    try:
        problems = [row[0] for row in connection.execute("PRAGMA quick_check")]
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "alembic_version" in tables:
            stamp = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError as exc:
        problems = [str(exc)]
    finally:
        connection.close()
    if problems != ["ok"]:
        raise _damaged(path, problems[0])
    if not tables:
        return FileInspection(exists=True)
    if "alembic_version" not in tables:
        raise ForeignDatabaseError(
            f"The file {path} is an SQLite database of another program, not SkyTwin's; it was left untouched."
        )
    return FileInspection(exists=True, revision=stamp[0] if stamp else None)


def _damaged(path: Path, detail: str) -> CorruptDatabaseError:
    return CorruptDatabaseError(
        f"The database {path} is damaged ({detail}); it was left untouched. "
        "Restore a copy from the backups folder beside it, or move it away to start fresh."
    )


def create_owner_only_file(path: Path) -> None:
    """Create an empty file readable and writable only by its owner (SQLite's -wal/-shm inherit it)."""
    descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, _OWNER_ONLY)
    os.close(descriptor)


def is_owner_only(path: Path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) & 0o077 == 0


def make_engine(path: Path) -> Engine:
    """An engine whose every connection uses WAL, enforces foreign keys and waits when busy."""
    if not path.exists():
        create_owner_only_file(path)
    engine = create_engine(f"sqlite+pysqlite:///{path}", connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    return engine


def backup_database(source: Path, destination: Path) -> None:
    """A consistent copy through SQLite's backup API (correct even with a live WAL file)."""
    destination.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    create_owner_only_file(destination)
    src = sqlite3.connect(f"{source.as_uri()}?mode=ro", uri=True)
    dst = sqlite3.connect(destination)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
