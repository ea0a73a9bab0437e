"""Migrations: empty to head with no drift from the models, backups before changing a file, and
refusal (with the file untouched) of anything we cannot safely migrate."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from skytwin_desktop.errors import CorruptDatabaseError, DatabaseTooNewError, ForeignDatabaseError
from skytwin_desktop.paths import bundled_dir
from skytwin_desktop.store.database import inspect_file, is_owner_only
from skytwin_desktop.store.migrate import open_and_migrate
from skytwin_desktop.store.models import Base


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def migrate(tmp_path: Path, scripts: Path | None = None):
    return open_and_migrate(tmp_path / "skytwin.db", tmp_path / "backups", scripts)


def test_empty_database_reaches_head_and_matches_the_models(tmp_path: Path):
    result = migrate(tmp_path)
    try:
        assert result.from_revision is None
        assert result.backup is None
        with result.engine.connect() as connection:
            assert connection.scalar(text("SELECT version_num FROM alembic_version")) == result.to_revision
            context = MigrationContext.configure(connection, opts={"compare_type": True, "compare_server_default": True})
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
    before = digest(tmp_path / "skytwin.db")
    with pytest.raises(DatabaseTooNewError, match="newer SkyTwin Desktop"):
        migrate(tmp_path)
    assert digest(tmp_path / "skytwin.db") == before
    assert not (tmp_path / "backups").exists()


def test_foreign_sqlite_database_is_refused_untouched(tmp_path: Path):
    with sqlite3.connect(tmp_path / "skytwin.db") as db:
        db.execute("CREATE TABLE recipes (name TEXT)")
        db.execute("INSERT INTO recipes VALUES ('bread')")
    db.close()
    before = digest(tmp_path / "skytwin.db")
    with pytest.raises(ForeignDatabaseError):
        migrate(tmp_path)
    assert digest(tmp_path / "skytwin.db") == before


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
    with pytest.raises(CorruptDatabaseError, match="left untouched"):
        migrate(tmp_path)
    assert digest(path) == before
