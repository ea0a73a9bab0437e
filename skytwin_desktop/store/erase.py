"""Deleting everything the app holds about the person, in one transaction."""

from __future__ import annotations

from sqlalchemy import delete, func, inspect, select, text
from sqlalchemy.orm import Session

from skytwin_desktop.store.models import AutonomySettings, User


def erase_person(session: Session, user_id: int) -> dict[str, int]:
    """Delete the person's row, so every table that references them cascades away; then start a
    fresh, empty profile under the same id. Returns the rows removed per table."""
    connection = session.connection()
    counts: dict[str, int] = {}
    for table in inspect(connection).get_table_names():
        columns = {fk["from"] for fk in connection.execute(text(f"PRAGMA foreign_key_list('{table}')")).mappings()
                   if fk["table"] == "users"}
        for column in columns:
            counts[table] = counts.get(table, 0) + (connection.scalar(
                text(f'SELECT count(*) FROM "{table}" WHERE "{column}" = :u'), {"u": user_id}) or 0)
    user = session.get_one(User, user_id)
    timezone, display_name = user.timezone, user.display_name
    session.expunge_all()
    session.execute(delete(User).where(User.id == user_id))
    counts["users"] = 1
    session.add(User(id=user_id, timezone=timezone, display_name=display_name))
    session.flush()
    session.add(AutonomySettings(user_id=user_id))
    session.flush()
    assert session.scalar(select(func.count()).select_from(User).where(User.id == user_id)) == 1
    return counts
