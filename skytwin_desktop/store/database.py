"""Opening the SQLite file safely.

Before anything writes to an existing file we look at it read-only: a file that is not SQLite,
fails SQLite's integrity check, belongs to another program or was written by a newer SkyTwin is
reported and left byte-for-byte as it was. We never delete or rebuild a person's data.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

from skytwin_desktop.errors import (
    CorruptDatabaseError,
    DatabaseBusyError,
    DatabaseGoneError,
    ForeignDatabaseError,
    StoreError,
)

SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 5000
_OWNER_ONLY = 0o600
_SQLITE_CORRUPT, _SQLITE_NOTADB = 11, 26
_SQLITE_READONLY = 8
_SQLITE_BUSY, _SQLITE_LOCKED = 5, 6
_READ = "skytwin_read"
"""Execution option that makes a transaction a plain (deferred) read."""
CORE_TABLES = frozenset({"users", "autonomy_settings", "connector_health"})
"""Tables every stamped SkyTwin database has; a stamp without them is someone else's file."""


@dataclass(frozen=True)
class FileInspection:
    """What a read-only look at an existing database file found."""

    exists: bool
    revision: str | None = None
    """The Alembic revision stamped in the file, or None for a new or empty database."""


def inspect_file(path: Path) -> FileInspection:
    """Check an existing file without changing it; raise a `StoreError` if it is unusable."""
    try:
        if path.is_symlink() and not path.exists():
            raise StoreError(f"Database path {path} is a link to a missing file; it was left untouched.")
        if not path.exists():
            return FileInspection(exists=False)
        if not path.is_file():
            raise StoreError(f"Database path {path} exists but is not a file; it was left untouched.")
        if path.stat().st_size == 0:
            return FileInspection(exists=True)
        with path.open("rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise StoreError(f"Cannot read the database {path}: {exc.strerror}.") from None
    if header != SQLITE_HEADER:
        raise _damaged(path, "not an SQLite file")
    try:
        problems, tables, stamp = _read_only_check(path, "ro")
    except sqlite3.DatabaseError as exc:
        if getattr(exc, "sqlite_errorcode", 0) & 0xFF != _SQLITE_READONLY:
            raise _unreadable(path, exc) from None
        # A crash left a hot journal or WAL that only a writer can recover: SQLite's own
        # recovery, which is what any open does; then the same checks.
        try:
            problems, tables, stamp = _read_only_check(path, "rw")
        except sqlite3.DatabaseError as again:
            raise _unreadable(path, again) from None
    if problems != ["ok"]:
        raise _damaged(path, problems[0])
    if not tables - {"alembic_version"}:
        return FileInspection(exists=True)
    if stamp is None or not CORE_TABLES <= tables:
        raise ForeignDatabaseError(
            f"The file {path} is an SQLite database of another program, not SkyTwin's; it was left untouched."
        )
    return FileInspection(exists=True, revision=stamp)


def _read_only_check(path: Path, mode: str) -> tuple[list[str], set[str], str | None]:
    """Integrity check (first problem only), table names and the Alembic stamp."""
    connection = sqlite3.connect(f"{path.as_uri()}?mode={mode}", uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        problems = [row[0] for row in connection.execute("PRAGMA integrity_check(1)")]
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        stamp = None
        if "alembic_version" in tables:
            row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
            stamp = row[0] if row else None
        return problems, tables, stamp
    finally:
        connection.close()


def _one_line(text: str) -> str:
    return " ".join(str(text).split())[:200]


def _damaged(path: Path, detail: str) -> CorruptDatabaseError:
    return CorruptDatabaseError(
        f"The database {path} is damaged ({_one_line(detail)}); it was left untouched. "
        "Restore a copy from the backups folder beside it, or move it away to start fresh."
    )


def _unreadable(path: Path, exc: sqlite3.DatabaseError) -> StoreError:
    if getattr(exc, "sqlite_errorcode", 0) & 0xFF in (_SQLITE_CORRUPT, _SQLITE_NOTADB):
        return _damaged(path, str(exc))
    return StoreError(f"Cannot check the database {path} ({_one_line(str(exc))}); it was left untouched.")


def create_owner_only_file(path: Path) -> None:
    """Create an empty file readable and writable only by its owner (SQLite's -wal/-shm inherit it)."""
    descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, _OWNER_ONLY)
    os.close(descriptor)


def is_owner_only(path: Path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) & 0o077 == 0


def make_engine(path: Path) -> Engine:
    """An engine whose connections use WAL, enforce foreign keys and wait when busy. A write
    transaction (DDL included) is a real `BEGIN IMMEDIATE`: one writer at a time, and a failed
    migration leaves nothing half-done. A read (see `Sessions.read`) is a plain `BEGIN`, which
    under WAL never waits behind a writer.

    Every transaction first checks that the file is still the one opened: a database deleted or
    replaced under the running app stops it (`DatabaseGoneError`) instead of letting it write on
    into a file nobody will see again."""
    if not path.exists():
        create_owner_only_file(path)
    identity = _identity(path)

    def _open() -> sqlite3.Connection:
        """A connection to this very file: `mode=rw` never creates one where it went missing (a
        plain open would, and the app would go on in a new empty database)."""
        if _identity(path) != identity:
            raise _gone(path)
        # as_uri() percent-encodes '?', '#' and '%' in a folder name, so they stay part of the path.
        return sqlite3.connect(f"{path.as_uri()}?mode=rw", uri=True, timeout=BUSY_TIMEOUT_MS / 1000,
                               check_same_thread=False)

    engine = create_engine("sqlite+pysqlite://", creator=_open, poolclass=QueuePool)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (see below)
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.OperationalError as exc:
            raise _busy_or(exc) from None
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection) -> None:
        if _identity(path) != identity:
            raise _gone(path)
        read = connection.get_execution_options().get(_READ, False)
        connection.exec_driver_sql("BEGIN" if read else "BEGIN IMMEDIATE")

    @event.listens_for(engine, "handle_error")
    def _translate(context) -> None:
        original = context.original_exception
        if isinstance(original, sqlite3.OperationalError):
            busy = _busy_or(original)
            if isinstance(busy, DatabaseBusyError):
                raise busy from None

    return engine


def _gone(path: Path) -> DatabaseGoneError:
    return DatabaseGoneError(
        f"The database {path} was deleted or replaced while SkyTwin was running; SkyTwin stopped "
        "acting so that nothing is done that it would then forget. Start SkyTwin again."
    )


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        found = path.stat()
    except OSError:
        return None
    return found.st_dev, found.st_ino


def _busy_or(exc: sqlite3.OperationalError) -> Exception:
    """SQLite's "database is locked" past the busy time-out, as one line the person can act on."""
    if getattr(exc, "sqlite_errorcode", 0) & 0xFF in (_SQLITE_BUSY, _SQLITE_LOCKED):
        return DatabaseBusyError("The database is busy: another program holds it. Try again when it is done.")
    return exc


SessionFactory = Callable[[], AbstractContextManager[Session]]


class Sessions:
    """Transactions on the store: `write()` starts with BEGIN IMMEDIATE, `read()` with a plain BEGIN.
    Use `read()` only for work that never writes (a deferred read cannot later become a write
    without risking SQLITE_BUSY), so status refreshes never queue behind the twin's writes."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._write = sessionmaker(engine, expire_on_commit=False)
        self._read = sessionmaker(engine.execution_options(**{_READ: True}), expire_on_commit=False)

    def write(self) -> AbstractContextManager[Session]:
        return self._write.begin()

    def read(self) -> AbstractContextManager[Session]:
        return self._read.begin()


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
