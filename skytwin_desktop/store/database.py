"""The store's engine and transactions on the SQLite file (checked first by `store.sqlite_file`)."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import CursorResult, ExceptionContext
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool
from sqlalchemy.sql.expression import Executable

from skytwin_desktop.errors import (
    DatabaseBusyError,
    DatabaseGoneError,
    DatabaseReadOnlyError,
    DiskError,
    DiskFullError,
)
from skytwin_desktop.store.sqlite_file import BUSY_TIMEOUT_MS, create_owner_only_file

_SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_READONLY, _SQLITE_IOERR, _SQLITE_FULL = 5, 6, 8, 10, 13
_NEARLY_FULL = 64 * 1024
_READ = "skytwin_read"
"""Execution option that makes a transaction a plain (deferred) read."""


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
    def _configure(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (see below)
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.OperationalError as exc:
            raise _in_words(exc, path) from None
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        if _identity(path) != identity:
            raise _gone(path)
        read = connection.get_execution_options().get(_READ, False)
        connection.exec_driver_sql("BEGIN" if read else "BEGIN IMMEDIATE")

    @event.listens_for(engine, "handle_error")
    def _translate(context: ExceptionContext) -> None:
        original = context.original_exception
        if isinstance(original, sqlite3.OperationalError):
            said = _in_words(original, path)
            if said is not original:
                raise said from None

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


def _in_words(exc: sqlite3.OperationalError, path: Path) -> Exception:
    """What SQLite says when the machine, not SkyTwin, is at fault, as one line the person can act
    on: busy past the time-out, no room on the disk, a read-only file or folder, a failing disk.
    Anything else is left as it is (a bug of ours, logged in full)."""
    code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
    if code in (_SQLITE_BUSY, _SQLITE_LOCKED):
        return DatabaseBusyError("The database is busy: another program holds it. Try again when it is done.")
    if code == _SQLITE_FULL or (code == _SQLITE_IOERR and disk_is_full(path.parent)):
        return DiskFullError(f"The disk holding {path.parent} is full, so SkyTwin could not save its work; nothing "
                             "was half-saved. Free some space and try again.")
    if code == _SQLITE_READONLY:
        return DatabaseReadOnlyError(f"The database {path} cannot be written (it or its folder is read-only). "
                                     "Make the data folder writable again.")
    if code == _SQLITE_IOERR:
        return DiskError(f"The disk holding {path} failed to read or write it (disk I/O error); nothing was "
                         "half-saved. Check the disk, then try again.")
    return exc


def disk_is_full(folder: Path) -> bool:
    """Whether less than a page or two is left for us: SQLite then says "disk I/O error"."""
    try:
        found = os.statvfs(folder)
    except OSError:
        return False
    return found.f_bavail * found.f_frsize < _NEARLY_FULL


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


def rows_changed(session: Session, statement: Executable) -> int:
    """Run an UPDATE or DELETE in the session's transaction; how many rows it changed."""
    result = session.execute(statement)
    assert isinstance(result, CursorResult)
    return result.rowcount or 0


def driver_connection(session: Session) -> sqlite3.Connection:
    """The session's own `sqlite3` connection, inside its transaction: for reads written in plain
    SQL (`store.status`), which the light path runs on a connection of its own."""
    connection = session.connection().connection.driver_connection
    assert isinstance(connection, sqlite3.Connection)
    return connection
