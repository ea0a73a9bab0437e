"""The store under SIGKILL: a migration or a first start killed at any moment leaves the person's
database whole (at the old schema or the new), and nothing incomplete under a final name: no
backup that is not a full, checked copy, no empty database. An empty database file is someone's
lost data and is reported, not re-created."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from skytwin_desktop.store.sqlite_file import CORE_TABLES, PARTIAL, SCHEMA_HEAD
from tests.support.app_process import until
from tests.support.old_database import OLD_REVISION, build_old_database

pytestmark = pytest.mark.slow
ROWS = 20_000
"""decision_log rows in the old database: about 17 MB, so a backup takes long enough to be hit."""


@pytest.fixture(scope="module")
def old_database(tmp_path_factory) -> Path:
    """A large database at the schema before head, as an earlier SkyTwin left it."""
    return build_old_database(tmp_path_factory.mktemp("old") / "skytwin.db", ROWS)


def _check(database: Path) -> tuple[str, int]:
    """(schema revision, rows kept) of a database that must pass SQLite's integrity check. Opened
    for writing, as the next start opens it: a kill can leave a log only a writer recovers."""
    with sqlite3.connect(database) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)], database
        (revision,) = db.execute("SELECT version_num FROM alembic_version").fetchone()
        (rows,) = db.execute("SELECT count(*) FROM decision_log").fetchone()
    return revision, rows


def _backups_are_whole(folder: Path, seen: set[Path] | None = None) -> int:
    """How many backups sit under a final name; each must be a complete, checked copy (those in
    `seen` were checked before, and are added to it)."""
    finals = sorted(folder.glob("*.db")) if folder.exists() else []
    for backup in set(finals) - (seen if seen is not None else set()):
        if seen is not None:
            seen.add(backup)
        with sqlite3.connect(f"{backup.as_uri()}?mode=ro", uri=True) as db:
            assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)], backup
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            assert tables >= CORE_TABLES, backup
            assert db.execute("SELECT count(*) FROM decision_log").fetchone() == (ROWS,), backup
    return len(finals)


def _migrate(data: Path) -> subprocess.Popen:
    env = {**os.environ, "SKYTWIN_DATA_DIR": str(data)}
    return subprocess.Popen([sys.executable, "-m", "skytwin_desktop", "migrate"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_a_migration_killed_at_any_moment_leaves_the_data_whole_and_no_false_backup(old_database, tmp_path):
    chance = random.Random(1302)
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    database, backups = data / "skytwin.db", data / "backups"
    database.write_bytes(old_database.read_bytes())
    (tmp_path / "calibration").mkdir(mode=0o700)
    (tmp_path / "calibration" / "skytwin.db").write_bytes(old_database.read_bytes())
    start = time.monotonic()
    assert _migrate(tmp_path / "calibration").wait(timeout=120) == 0
    whole = time.monotonic() - start  # how long a whole migration takes here
    during_backup, seen = 0, set()
    for attempt in range(30):
        if _check(database)[0] == SCHEMA_HEAD:  # a kill came too late: start again from the old schema
            for path in data.glob("skytwin.db*"):
                path.unlink()
            database.write_bytes(old_database.read_bytes())
        process = _migrate(data)
        if attempt % 2:  # while the copy is being written, at a random size
            grown = chance.uniform(0.05, 0.95) * old_database.stat().st_size
            def copied(grown: float = grown, process: subprocess.Popen = process) -> bool:
                partial = backups.glob(f"*{PARTIAL}")
                return any(p.stat().st_size > grown for p in partial) or process.poll() is not None

            until(copied, limit=60, step=0.002)
        else:  # at any moment
            time.sleep(chance.uniform(0.3, 1.0) * whole)
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        during_backup += any(backups.glob(f"*{PARTIAL}"))
        revision, rows = _check(database)
        assert revision in (OLD_REVISION, SCHEMA_HEAD) and rows == ROWS, attempt
        _backups_are_whole(backups, seen)
    assert during_backup >= 5, "the kills reached the copy being written"
    finished = _migrate(data)
    assert finished.wait(timeout=120) == 0
    assert _check(database) == (SCHEMA_HEAD, ROWS)
    assert not list(backups.glob(f"*{PARTIAL}*")), "an interrupted copy is cleared by the next one"
    assert _backups_are_whole(backups) >= 1


def test_a_first_start_killed_at_any_moment_leaves_no_empty_database(tmp_path):
    chance = random.Random(2025)
    for attempt in range(4):
        data = tmp_path / f"data-{attempt}"
        process = _migrate(data)
        time.sleep(chance.uniform(0.4, 1.2))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        database = data / "skytwin.db"
        if database.exists():
            assert _check_new(database) == SCHEMA_HEAD, "a database under its name is a whole one"
        again = _migrate(data)
        assert again.wait(timeout=120) == 0, "the next start goes on"
        assert _check_new(database) == SCHEMA_HEAD
        assert sorted(p.name for p in data.iterdir() if p.name.startswith("skytwin.db.new")) == []


def _check_new(database: Path) -> str:
    with sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        return db.execute("SELECT version_num FROM alembic_version").fetchone()[0]


@pytest.mark.parametrize("beside", [None, "-wal", "-journal"])
def test_an_empty_database_file_is_reported_and_left_as_found(tmp_path, beside):
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    (data / "skytwin.db").write_bytes(b"")
    if beside:
        (data / f"skytwin.db{beside}").write_bytes(b"\x37\x7f\x06\x82" + b"\0" * 4092)
    found = sorted((p.name, p.stat().st_size) for p in data.iterdir())
    shown = subprocess.run([sys.executable, "-m", "skytwin_desktop", "status"], capture_output=True, text=True,
                           env={**os.environ, "SKYTWIN_DATA_DIR": str(data)}, timeout=60)
    assert shown.returncode == 3
    assert shown.stderr.count("\n") == 1 and "is empty (0 bytes)" in shown.stderr and "left untouched" in shown.stderr
    if beside:
        assert f"skytwin.db{beside} (4096 bytes) beside it, which may hold its data" in shown.stderr
    assert sorted((p.name, p.stat().st_size) for p in data.iterdir() if p.name != "logs") == found
