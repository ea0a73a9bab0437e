"""A database as an earlier SkyTwin left it: at the schema before head, and large (many decisions),
so that opening it means a backup and a migration that take a moment."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import create_engine

from skytwin_desktop.store.migrate import alembic_config

OLD_REVISION = "0005"


def build_old_database(path: Path, rows: int) -> Path:
    from alembic import command

    engine = create_engine(f"sqlite:///{path}")
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, OLD_REVISION)
    engine.dispose()
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO users (id, email) VALUES (1, 'ada@example.com')")
        db.execute("INSERT INTO autonomy_settings (user_id, allowed_domains, blocked_domains) VALUES (1, '[]', '[]')")
        db.executemany("INSERT INTO decision_log (user_id, action_kind, target, allowed, requires_approval, "
                       "confirmation, reason_code, message, decided_by) VALUES (1, 'archive_email', ?, 1, 0, "
                       "'none', 'auto_execute', ?, 'tier')",
                       ((f"message {n}", "x" * 600) for n in range(rows)))
    return path
