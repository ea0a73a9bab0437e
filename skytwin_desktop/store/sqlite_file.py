"""The SQLite file itself, through the standard `sqlite3` module only: the read-only look before
anything writes to it, the schema this code expects, owner-only files, consistent copies, and a
read-only connection for a quick look (`status` with no app running).

A file that is not SQLite, fails SQLite's integrity check, belongs to another program or was
written by a newer SkyTwin is reported and left byte-for-byte as it was. We never delete or
rebuild a person's data.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from skytwin_desktop.errors import CorruptDatabaseError, ForeignDatabaseError, StoreError

PARTIAL = ".partial"
"""A backup being written carries this after its name; only a complete, checked one loses it."""
SCHEMA_HEAD = "0006"
"""The newest migration's revision. A database already at it opens without loading Alembic (a
large import at every start); tests/test_migrations.py holds it to the migrations folder's head."""
SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 5000
_OWNER_ONLY = 0o600
_SQLITE_CORRUPT, _SQLITE_NOTADB = 11, 26
_SQLITE_READONLY = 8
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
            raise _empty(path)
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
    if stamp is None or not tables >= CORE_TABLES:
        raise ForeignDatabaseError(
            f"The file {path} is an SQLite database of another program, not SkyTwin's; it was left untouched."
        )
    return FileInspection(exists=True, revision=stamp)


def _read_only_check(path: Path, mode: str) -> tuple[list[str], set[str], str | None]:
    """Integrity check (first problem only), table names and the Alembic stamp."""
    with leaving_no_trace(path):
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


@contextmanager
def leaving_no_trace(path: Path) -> Iterator[None]:
    """A look at a WAL database makes SQLite create its `-wal` and `-shm` files; those this look
    created are removed after it while the log is empty, so a look (at a damaged file, or `status`)
    leaves the folder as it found it. Files that were there before are never touched."""
    wal, shm = (path.with_name(path.name + end) for end in ("-wal", "-shm"))
    there = {side for side in (wal, shm) if side.exists()}
    try:
        yield
    finally:
        try:
            if wal not in there and (not wal.exists() or wal.stat().st_size == 0):
                for side in (wal, shm):
                    if side not in there:
                        side.unlink(missing_ok=True)
        except OSError:
            pass  # a folder we may not change: what we leave is harmless


def _one_line(text: str) -> str:
    return " ".join(str(text).split())[:200]


def _empty(path: Path) -> CorruptDatabaseError:
    """SkyTwin never leaves an empty database (a new one gets its name only once it has its
    tables), so an empty file is someone's lost data, perhaps still in a log beside it."""
    logs = [f"{other.name} ({other.stat().st_size} bytes)" for other in
            (path.with_name(path.name + "-wal"), path.with_name(path.name + "-journal"))
            if other.exists() and other.stat().st_size]
    beside = f", with {' and '.join(logs)} beside it, which may hold its data" if logs else ""
    return CorruptDatabaseError(
        f"The database {path} is empty (0 bytes){beside}; it was left untouched. Restore a copy from "
        "the backups folder beside it, or move it away to start fresh."
    )


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




def backup_database(source: Path, destination: Path) -> None:
    """A consistent copy through SQLite's backup API (correct even with a live WAL file), written
    under a working name and given its final name only once complete and checked, so a copy cut
    short (a crash, a kill, a full disk) never passes for a backup. Leftovers of such copies are
    removed first: they are ours and incomplete."""
    folder = destination.parent
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    for leftover in [*folder.glob(f"*{PARTIAL}"), *folder.glob(f"*{PARTIAL}-journal")]:
        leftover.unlink(missing_ok=True)
    partial = destination.with_name(destination.name + PARTIAL)
    create_owner_only_file(partial)
    try:
        src = sqlite3.connect(f"{source.as_uri()}?mode=ro", uri=True)
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst)
            problems = [row[0] for row in dst.execute("PRAGMA integrity_check(1)")]
            tables = {row[0] for row in dst.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            dst.close()
            src.close()
        if problems != ["ok"] or not tables >= CORE_TABLES:
            raise StoreError(f"The backup of {source} before migrating could not be checked "
                             f"({_one_line(problems[0]) if problems != ['ok'] else 'tables missing'}); "
                             "nothing was migrated.")
        durable(partial)
        os.replace(partial, destination)
        durable(folder)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def durable(path: Path) -> None:
    """Flush a file's data, or a folder's entries (a rename), to the disk."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def open_read_only(path: Path) -> sqlite3.Connection:
    """A connection that cannot write or create the file (SQLite raises if it would have to)."""
    return sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
