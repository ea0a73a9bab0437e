"""Bringing the database file to the schema this version of the code expects.

Runs at every start (and via `skytwin-desktop migrate`). An existing database is copied to the
backups folder before any migration changes it, and a database stamped with a revision we do not
know (written by a newer SkyTwin) is refused untouched rather than "fixed".
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from skytwin_desktop.errors import DatabaseTooNewError
from skytwin_desktop.paths import bundled_dir
from skytwin_desktop.store.database import make_engine
from skytwin_desktop.store.sqlite_file import SCHEMA_HEAD, backup_database, durable, inspect_file

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

log = logging.getLogger(__name__)
NEW = ".new"
"""A database being created carries this after its name until it has all its tables."""


def alembic_config(scripts: Path | None = None) -> AlembicConfig:
    """Alembic set up in code (no alembic.ini needed at run time); `scripts` overrides the
    shipped migrations folder."""
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", str(scripts or bundled_dir("migrations")))
    return config


@dataclass(frozen=True)
class MigrationResult:
    database: Path
    engine: Engine
    from_revision: str | None
    to_revision: str
    backup: Path | None

    @property
    def changed(self) -> bool:
        return self.from_revision != self.to_revision


def open_and_migrate(database: Path, backup_dir: Path, scripts: Path | None = None) -> MigrationResult:
    """Check the file read-only, back it up if a migration will change it, then upgrade to head."""
    found = inspect_file(database)
    if scripts is None and found.revision == SCHEMA_HEAD:  # the usual start: nothing to migrate
        return MigrationResult(database=database, engine=make_engine(database), from_revision=found.revision,
                               to_revision=SCHEMA_HEAD, backup=None)
    from alembic.script import ScriptDirectory

    config = alembic_config(scripts)
    directory = ScriptDirectory.from_config(config)
    head = directory.get_current_head()
    assert head is not None, "the migrations folder has no revisions"
    if found.revision is not None and found.revision not in {rev.revision for rev in directory.walk_revisions()}:
        raise DatabaseTooNewError(
            f"The database {database} was written by a newer SkyTwin Desktop (schema {found.revision}, "
            f"this version knows up to {head}); it was left untouched. Install the newer version."
        )
    backup = None
    if found.revision is not None and found.revision != head:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        backup = backup_dir / f"{database.stem}-{found.revision}-before-{head}-{stamp}.db"
        backup_database(database, backup)
        log.info("Backed up the database to %s before migrating %s -> %s", backup, found.revision, head)
    if not found.exists:
        _create(database, config)
        return MigrationResult(database=database, engine=make_engine(database), from_revision=None,
                               to_revision=head, backup=None)
    engine = make_engine(database)
    if found.revision != head:
        _upgrade(engine, config)
    return MigrationResult(database=database, engine=engine, from_revision=found.revision, to_revision=head,
                           backup=backup)


def _upgrade(engine: Engine, config: AlembicConfig) -> None:
    """To head in one transaction: a failed migration leaves nothing half-done."""
    from alembic import command

    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def _create(database: Path, config: AlembicConfig) -> None:
    """A new database is built under a working name and takes its real name only with all its
    tables, so a start cut short never leaves an empty or half-made file that could pass for the
    person's data (an empty one is reported, see `inspect_file`)."""
    building = database.with_name(database.name + NEW)
    for leftover in (building, *(building.with_name(building.name + end) for end in ("-wal", "-shm", "-journal"))):
        leftover.unlink(missing_ok=True)  # ours, from a start cut short
    engine = make_engine(building)
    try:
        _upgrade(engine, config)
        raw = engine.raw_connection()  # outside a transaction: everything into the file itself,
        try:  # so that it can be renamed alone
            raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            raw.close()
    finally:
        engine.dispose()
    durable(building)
    try:
        os.link(building, database)  # never over a file that appeared meanwhile: that one is kept
    except FileExistsError:
        building.unlink()
        return
    except OSError:  # no hard links on this file system: a plain rename, which then may replace
        os.rename(building, database)
    else:
        building.unlink()
    durable(database.parent)
