"""The live schema keeps its promises: CHECKs, cascades to users, an append-only decision log."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, func, inspect, select, text
from sqlalchemy.exc import IntegrityError

from skytwin_desktop.store.models import (
    ActionRecord,
    Approval,
    ConnectorAccount,
    ConnectorBreaker,
    ConnectorCursor,
    ConnectorHealth,
    ConnectorReading,
    DecisionLogEntry,
    FeedbackEventRow,
    PolicyRuleRow,
    ProcessedSignal,
    SetAsideItem,
    SignalInboxRow,
    TierChangeRow,
    User,
)
from skytwin_desktop.store.users import ensure_local_user


def user_tables(connection) -> dict[str, list[dict]]:
    """Every table with a foreign key to users, from the live database (not the models)."""
    found = {}
    for table in inspect(connection).get_table_names():
        keys = [fk for fk in connection.execute(text(f"PRAGMA foreign_key_list('{table}')")).mappings()
                if fk["table"] == "users"]
        if keys:
            found[table] = keys
    return found


def test_every_foreign_key_to_users_cascades_on_delete(context):
    with context.engine.connect() as connection:
        tables = user_tables(connection)
    assert {"autonomy_settings", "connector_health", "connector_cursors", "processed_signals",
            "approvals", "decision_log", "policy_rules", "feedback_events", "tier_changes",
            "connector_accounts", "connector_breakers", "signal_inbox", "action_records", "connector_reading",
            "set_aside"} <= set(tables)
    not_cascading = [(t, fk["from"]) for t, fks in tables.items() for fk in fks if fk["on_delete"] != "CASCADE"]
    assert not_cascading == []


def add_everything_for(session, user_id: int, now) -> None:
    session.add_all([
        ConnectorHealth(user_id=user_id, connector_name="gmail", status="connected", last_success_at=now),
        ConnectorCursor(user_id=user_id, connector_name="gmail", cursor="12345"),
        ProcessedSignal(user_id=user_id, connector_name="calendar", signal_id="evt-1"),
        Approval(user_id=user_id, action_key="gmail:m1:archive_email", action_kind="archive_email",
                 target="m1", action={}, reason_code="tier_requires_approval", reason="Ask me first",
                 decided_by="tier", expires_at=now + timedelta(hours=24)),
        DecisionLogEntry(user_id=user_id, action_kind="archive_email", target="m1", allowed=True,
                         requires_approval=True, confirmation="single", reason_code="tier_requires_approval",
                         message="Ask me first", decided_by="tier"),
        PolicyRuleRow(user_id=user_id, name="no shops", effect="deny",
                      conditions=[{"field": "domain", "operator": "eq", "value": "shop.example"}]),
        FeedbackEventRow(user_id=user_id, at=now, kind="approved", action_kind="archive_email"),
        TierChangeRow(user_id=user_id, at=now, old_tier="observer", new_tier="suggest", reason="test",
                      by_person=True),
        ConnectorAccount(user_id=user_id, connector_name="gmail", account_email="ada@example.com", connected_at=now),
        ConnectorBreaker(user_id=user_id, connector_name="calendar", consecutive_failures=2),
        SignalInboxRow(user_id=user_id, connector_name="gmail", signal_id="m1", payload={}),
        ActionRecord(user_id=user_id, action_key="gmail:m1:archive_email", action_kind="archive_email",
                     target="m1", action={}, state="done", started_at=now),
        ConnectorReading(user_id=user_id, connector_name="gmail", problem="unreachable", failing_since=now),
        SetAsideItem(user_id=user_id, connector_name="gmail", item_id="m2", stage="read", reason="odd",
                     payload={}, app_version="0"),
    ])


def test_deleting_a_user_removes_every_row_of_theirs_in_every_table(context, clock):
    with context.session() as session:
        first = ensure_local_user(session, timezone="UTC")
        other = User(email="other@example.com")
        session.add(other)
        session.flush()
        add_everything_for(session, first.id, clock())
        add_everything_for(session, other.id, clock())
        session.execute(text("INSERT INTO autonomy_settings (user_id, allowed_domains, blocked_domains) "
                             "VALUES (:u, '[]', '[]')"), {"u": other.id})
        first_id, other_id = first.id, other.id

    with context.engine.connect() as connection:
        tables = user_tables(connection)
        columns = {t: fks[0]["from"] for t, fks in tables.items()}
        counts = {t: connection.scalar(text(f"SELECT count(*) FROM {t} WHERE {c} = :u"), {"u": first_id})
                  for t, c in columns.items()}
    assert all(n > 0 for n in counts.values()), f"fill every user table in this test: {counts}"

    with context.session() as session:
        session.execute(delete(User).where(User.id == first_id))

    with context.engine.connect() as connection:
        for table, column in columns.items():
            assert connection.scalar(text(f"SELECT count(*) FROM {table} WHERE {column} = :u"), {"u": first_id}) == 0
            assert connection.scalar(text(f"SELECT count(*) FROM {table} WHERE {column} = :u"), {"u": other_id}) > 0


@pytest.mark.parametrize("status", ["broken", "CONNECTED", "", "expired"])
def test_connector_health_status_check_rejects_other_values(context, status):
    with pytest.raises(IntegrityError, match="CHECK constraint failed"), context.session() as session:
        session.add(ConnectorHealth(user_id=context.user_id, connector_name="gmail", status=status))


def test_connector_name_check_rejects_unknown_connectors(context):
    with pytest.raises(IntegrityError, match="CHECK constraint failed"), context.session() as session:
        session.add(ConnectorHealth(user_id=context.user_id, connector_name="outlook", status="connected"))


def test_pause_reason_over_500_characters_is_refused_by_the_database(context):
    with pytest.raises(IntegrityError, match="CHECK constraint failed"), context.session() as session:
        session.execute(text("UPDATE autonomy_settings SET paused_reason = :r"), {"r": "x" * 501})


def test_unknown_trust_tier_is_refused_by_the_database(context):
    with pytest.raises(IntegrityError, match="CHECK constraint failed"), context.session() as session:
        session.execute(text("UPDATE users SET trust_tier = 'god_mode'"))


def test_decision_log_is_append_only(context):
    with context.session() as session:
        session.add(DecisionLogEntry(user_id=context.user_id, action_kind="archive_email", target="m1",
                                     allowed=False, requires_approval=False, confirmation="none",
                                     reason_code="blocked_domain", message="blocked", decided_by="settings"))
    with pytest.raises(IntegrityError, match="append-only"), context.session() as session:
        session.execute(text("UPDATE decision_log SET allowed = 1"))
    with context.session() as session:
        assert session.scalar(select(func.count()).where(DecisionLogEntry.allowed.is_(False))) == 1
