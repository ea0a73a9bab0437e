"""Migrations: empty to head with no drift from the models, backups before changing a file, and
refusal (with the file untouched) of anything we cannot safely migrate."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import stat
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from skytwin_desktop.errors import (
    CorruptDatabaseError,
    DatabaseTooNewError,
    ForeignDatabaseError,
)
from skytwin_desktop.paths import bundled_dir
from skytwin_desktop.store.migrate import open_and_migrate
from skytwin_desktop.store.models import Base
from skytwin_desktop.store.sqlite_file import inspect_file


def is_owner_only(path: Path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) & 0o077 == 0


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_refused_untouched(tmp_path: Path, error: type[Exception], match: str | None = None) -> None:
    """Opening is refused with `error`, and the file is byte-for-byte what it was."""
    before = digest(tmp_path / "skytwin.db")
    with pytest.raises(error, match=match):
        migrate(tmp_path)
    assert digest(tmp_path / "skytwin.db") == before


def migrate(tmp_path: Path, scripts: Path | None = None):
    return open_and_migrate(tmp_path / "skytwin.db", tmp_path / "backups", scripts)


def test_empty_database_reaches_head_and_matches_the_models(tmp_path: Path):
    result = migrate(tmp_path)
    try:
        assert result.from_revision is None
        assert result.backup is None
        with result.engine.connect() as connection:
            assert connection.scalar(text("SELECT version_num FROM alembic_version")) == result.to_revision
            context = MigrationContext.configure(connection,
                                                 opts={"compare_type": True, "compare_server_default": True})
            drift = compare_metadata(context, Base.metadata)
        assert drift == []
    finally:
        result.engine.dispose()


def test_second_start_does_not_migrate_or_back_up(tmp_path: Path):
    migrate(tmp_path).engine.dispose()
    again = migrate(tmp_path)
    again.engine.dispose()
    assert not again.changed
    assert again.backup is None
    assert not (tmp_path / "backups").exists()


def test_the_schema_head_constant_is_the_migrations_head():
    from alembic.script import ScriptDirectory

    from skytwin_desktop.store.migrate import alembic_config
    from skytwin_desktop.store.sqlite_file import SCHEMA_HEAD

    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == SCHEMA_HEAD


@pytest.mark.slow
def test_a_database_at_head_opens_without_loading_alembic(tmp_path: Path):
    import subprocess
    import sys

    database = tmp_path / "skytwin.db"
    open_and_migrate(database, tmp_path / "backups").engine.dispose()
    code = ("import sys; from pathlib import Path; from skytwin_desktop.store.migrate import open_and_migrate; "
            f"r = open_and_migrate(Path({str(database)!r}), Path({str(tmp_path / 'backups')!r})); "
            "print(r.changed, 'alembic' in sys.modules)")
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert shown.stdout.split() == ["False", "False"]


def test_database_files_are_owner_only_and_use_wal_with_foreign_keys(tmp_path: Path):
    result = migrate(tmp_path)
    try:
        with result.engine.connect() as connection:
            assert connection.scalar(text("PRAGMA journal_mode")) == "wal"
            assert connection.scalar(text("PRAGMA foreign_keys")) == 1
            assert connection.scalar(text("PRAGMA busy_timeout")) == 5000
            connection.execute(text("SELECT count(*) FROM users"))
            for suffix in ("", "-wal", "-shm"):
                path = tmp_path / f"skytwin.db{suffix}"
                if path.exists():
                    assert is_owner_only(path), path
    finally:
        result.engine.dispose()


NEXT_REVISION = '''
from alembic import op
import sqlalchemy as sa

revision = "9999"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("nickname", sa.String(50), nullable=True))


def downgrade():
    with op.batch_alter_table("users") as batch:
        batch.drop_column("nickname")
'''


def test_existing_database_is_backed_up_before_a_migration_changes_it(tmp_path: Path):
    first = migrate(tmp_path)
    with first.engine.begin() as connection:
        connection.execute(text("INSERT INTO users (email) VALUES ('ada@example.com')"))
    first.engine.dispose()
    before = digest(tmp_path / "skytwin.db")

    scripts = tmp_path / "scripts"
    shutil.copytree(bundled_dir("migrations"), scripts, ignore=shutil.ignore_patterns("__pycache__"))
    (scripts / "versions" / "9999_next.py").write_text(NEXT_REVISION.format(head=first.to_revision))

    second = migrate(tmp_path, scripts)
    try:
        assert (second.from_revision, second.to_revision) == (first.to_revision, "9999")
        assert second.backup is not None and second.backup.parent == tmp_path / "backups"
        assert is_owner_only(second.backup)
        assert inspect_file(second.backup).revision == first.to_revision
        with sqlite3.connect(second.backup) as copy:
            assert copy.execute("SELECT email FROM users").fetchall() == [("ada@example.com",)]
            assert "nickname" not in [row[1] for row in copy.execute("PRAGMA table_info(users)")]
        with second.engine.connect() as connection:
            assert connection.scalar(text("SELECT nickname IS NULL FROM users")) == 1
    finally:
        second.engine.dispose()
    assert digest(tmp_path / "skytwin.db") != before


def test_database_from_a_newer_version_is_refused_untouched(tmp_path: Path):
    migrate(tmp_path).engine.dispose()
    with sqlite3.connect(tmp_path / "skytwin.db") as db:
        db.execute("UPDATE alembic_version SET version_num = 'f00dfeed'")
    db.close()
    assert_refused_untouched(tmp_path, DatabaseTooNewError, match="newer SkyTwin Desktop")
    assert not (tmp_path / "backups").exists()


def test_foreign_sqlite_database_is_refused_untouched(tmp_path: Path):
    with sqlite3.connect(tmp_path / "skytwin.db") as db:
        db.execute("CREATE TABLE recipes (name TEXT)")
        db.execute("INSERT INTO recipes VALUES ('bread')")
    db.close()
    assert_refused_untouched(tmp_path, ForeignDatabaseError)


def corrupt_pages(path: Path) -> None:
    """Scribble over the middle of a real database, as a failing disk would."""
    data = bytearray(path.read_bytes())
    page = 4096
    for offset in range(page + 8, min(len(data), 6 * page), 7):
        data[offset] = 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda p: p.write_bytes(b"this is not a database, just some text\n" * 50), id="not-sqlite"),
        pytest.param(lambda p: p.write_bytes(p.read_bytes()[:5000]), id="truncated"),
        pytest.param(corrupt_pages, id="scribbled-pages"),
    ],
)
def test_damaged_database_is_reported_and_left_byte_for_byte(tmp_path: Path, damage):
    first = migrate(tmp_path)
    with first.engine.begin() as connection:
        for n in range(200):
            connection.execute(text("INSERT INTO users (email, display_name) VALUES (:e, :d)"),
                               {"e": f"p{n}@example.com", "d": "x" * 100})
    first.engine.dispose()
    path = tmp_path / "skytwin.db"
    damage(path)
    before = digest(path)
    found = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(CorruptDatabaseError, match="left untouched"):
        migrate(tmp_path)
    assert digest(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == found, "the folder as found: no new -wal or -shm"


FAILING_REVISION = '''
from alembic import op
import sqlalchemy as sa

revision = "9999"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table("half_done", sa.Column("id", sa.Integer, primary_key=True))
    op.execute("INSERT INTO users (email) VALUES ('ghost@example.com')")
    raise RuntimeError("power cut")


def downgrade():
    pass
'''


def test_a_failed_migration_leaves_nothing_half_done(tmp_path: Path):
    first = migrate(tmp_path)
    first.engine.dispose()
    scripts = tmp_path / "scripts"
    shutil.copytree(bundled_dir("migrations"), scripts, ignore=shutil.ignore_patterns("__pycache__"))
    (scripts / "versions" / "9999_broken.py").write_text(FAILING_REVISION.format(head=first.to_revision))
    with pytest.raises(RuntimeError, match="power cut"):
        migrate(tmp_path, scripts)
    with sqlite3.connect(tmp_path / "skytwin.db") as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert "half_done" not in tables
        assert db.execute("SELECT count(*) FROM users WHERE email = 'ghost@example.com'").fetchone() == (0,)
        assert db.execute("SELECT version_num FROM alembic_version").fetchone() == (first.to_revision,)
    db.close()
    again = migrate(tmp_path)  # the shipped migrations still open it
    again.engine.dispose()
    assert again.to_revision == first.to_revision


def test_stamp_without_skytwin_tables_is_someone_elses_database(tmp_path: Path):
    with sqlite3.connect(tmp_path / "skytwin.db") as db:
        db.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
        db.execute("INSERT INTO alembic_version VALUES ('0001')")
        db.execute("CREATE TABLE invoices (id INTEGER)")
    db.close()
    assert_refused_untouched(tmp_path, ForeignDatabaseError)


def test_empty_stamp_beside_tables_is_refused(tmp_path: Path):
    migrate(tmp_path).engine.dispose()
    with sqlite3.connect(tmp_path / "skytwin.db") as db:
        db.execute("DELETE FROM alembic_version")
    db.close()
    assert_refused_untouched(tmp_path, ForeignDatabaseError)


def break_an_index(path: Path) -> None:
    """An index whose contents no longer match its table: only a full integrity check sees it."""
    with sqlite3.connect(path) as db:
        db.execute("CREATE INDEX ix_scratch ON users (display_name)")
        db.execute("PRAGMA writable_schema = ON")
        db.execute("UPDATE sqlite_master SET sql = 'CREATE INDEX ix_scratch ON users (email)' "
                   "WHERE name = 'ix_scratch'")
    db.close()


def test_index_damage_is_caught_before_anything_writes(tmp_path: Path):
    first = migrate(tmp_path)
    with first.engine.begin() as connection:
        connection.execute(text("INSERT INTO users (email, display_name) VALUES ('a@example.com', 'Ada')"))
    first.engine.dispose()
    path = tmp_path / "skytwin.db"
    break_an_index(path)
    with sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True) as db:
        assert db.execute("PRAGMA quick_check").fetchone() == ("ok",), "quick_check alone would miss it"
    db.close()
    before = digest(path)
    with pytest.raises(CorruptDatabaseError) as caught:
        migrate(tmp_path)
    assert "\n" not in str(caught.value)
    assert digest(path) == before


@pytest.mark.slow
def test_unfinished_transaction_from_a_crash_is_recovered_not_reported(tmp_path: Path):
    """A hot rollback journal is SQLite's normal crash state, not damage."""
    path = tmp_path / "skytwin.db"
    migrate(tmp_path).engine.dispose()
    script = (
        "import sqlite3, os\n"
        f"db = sqlite3.connect({str(path)!r}, isolation_level=None)\n"
        "db.execute('PRAGMA journal_mode=DELETE')\n"
        "db.execute('BEGIN IMMEDIATE')\n"
        "db.execute(\"INSERT INTO users (email) VALUES ('crash@example.com')\")\n"
        "db.execute('PRAGMA cache_spill=1')\n"
        "db.execute(\"UPDATE users SET display_name = hex(randomblob(2000))\")\n"
        "os._exit(9)\n"
    )
    import subprocess
    import sys

    subprocess.run([sys.executable, "-c", script], timeout=60)
    journal = tmp_path / "skytwin.db-journal"
    assert journal.exists() and journal.stat().st_size > 0, "the crash left a hot journal"
    result = migrate(tmp_path)
    try:
        with result.engine.connect() as connection:
            assert connection.scalar(text("SELECT count(*) FROM users WHERE email = 'crash@example.com'")) == 0
    finally:
        result.engine.dispose()


def test_folder_names_with_url_characters_are_just_folder_names(tmp_path: Path):
    other = tmp_path / "app"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE recipes (name TEXT)")
    db.close()
    before = digest(other)
    for name in ("app?z", "app#frag", "app%41"):
        folder = tmp_path / name
        folder.mkdir()
        result = open_and_migrate(folder / "skytwin.db", folder / "backups")
        result.engine.dispose()
        assert (folder / "skytwin.db").is_file()
        assert is_owner_only(folder / "skytwin.db")
    assert digest(other) == before
    assert not (tmp_path / "appA").exists()
