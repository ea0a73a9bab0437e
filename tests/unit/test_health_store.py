"""The connector-health upsert: a flap never erases the last-good (or last-bad) marker, and
updated_at is the database's clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text

from skytwin_desktop.domain import Connector, HealthStatus
from skytwin_desktop.store.health import health_by_connector, record_health
from skytwin_desktop.store.models import ConnectorHealth


def row(context, connector=Connector.GMAIL) -> ConnectorHealth:
    with context.session() as session:
        return session.scalars(select(ConnectorHealth).where(
            ConnectorHealth.user_id == context.user_id, ConnectorHealth.connector_name == connector.value)).one()


def test_flap_keeps_both_markers(context, clock):
    good = clock()
    with context.session() as session:
        record_health(session, context.user_id, Connector.GMAIL, HealthStatus.CONNECTED, at=good)
    first = row(context)
    assert (first.status, first.last_success_at, first.last_failure_at) == ("connected", good, None)

    bad = clock.advance(minutes=5)
    with context.session() as session:
        record_health(session, context.user_id, Connector.GMAIL, HealthStatus.NEEDS_REAUTH, at=bad,
                      error_code="invalid_grant")
    broken = row(context)
    assert (broken.status, broken.error_code) == ("needs_reauth", "invalid_grant")
    assert broken.last_success_at == good, "a failure must not erase the last success"
    assert broken.last_failure_at == bad

    again = clock.advance(minutes=5)
    with context.session() as session:
        record_health(session, context.user_id, Connector.GMAIL, HealthStatus.CONNECTED, at=again)
    healed = row(context)
    assert (healed.status, healed.error_code) == ("connected", None)
    assert healed.last_success_at == again
    assert healed.last_failure_at == bad, "a success must not erase the last failure"


def test_one_connector_never_touches_the_other(context, clock):
    with context.session() as session:
        record_health(session, context.user_id, Connector.CALENDAR, HealthStatus.CONNECTED, at=clock())
        record_health(session, context.user_id, Connector.GMAIL, HealthStatus.NEEDS_REAUTH, at=clock(),
                      error_code="invalid_grant")
    with context.session() as session:
        rows = health_by_connector(session, context.user_id)
    assert rows[Connector.CALENDAR].status == "connected"
    assert rows[Connector.CALENDAR].error_code is None
    assert rows[Connector.GMAIL].status == "needs_reauth"


def test_updated_at_comes_from_the_database_clock_not_python(context):
    long_ago = datetime(2001, 1, 1, tzinfo=UTC)
    with context.session() as session:
        db_before = _db_now(session)
        record_health(session, context.user_id, Connector.GMAIL, HealthStatus.CONNECTED, at=long_ago)
        db_after = _db_now(session)
    stored = row(context)
    assert stored.last_success_at == long_ago
    assert db_before <= stored.updated_at <= db_after
    assert stored.updated_at - long_ago > timedelta(days=365)

    with context.session() as session:
        record_health(session, context.user_id, Connector.GMAIL, HealthStatus.NEEDS_REAUTH, at=long_ago,
                      error_code="invalid_grant")
        db_after_update = _db_now(session)
    assert db_after <= row(context).updated_at <= db_after_update


def test_updated_at_ignores_a_frozen_python_clock(context):
    """With Python's clock stuck in 2001, only the database's own clock can give a current time."""
    from freezegun import freeze_time

    with freeze_time("2001-01-01 00:00:00"), context.session() as session:
        record_health(session, context.user_id, Connector.GMAIL, HealthStatus.CONNECTED,
                      at=datetime(2001, 1, 1, tzinfo=UTC))
    stored = row(context)
    assert stored.updated_at.year >= 2024


def test_updated_at_moves_on_every_upsert(context, clock):
    import time

    stamps = []
    for status in (HealthStatus.CONNECTED, HealthStatus.NEEDS_REAUTH, HealthStatus.CONNECTED):
        with context.session() as session:
            record_health(session, context.user_id, Connector.GMAIL, status, at=clock(), error_code="invalid_grant")
        stamps.append(row(context).updated_at)
        time.sleep(0.005)
    assert stamps[0] < stamps[1] < stamps[2]


def _db_now(session) -> datetime:
    raw = session.scalar(text("SELECT strftime('%Y-%m-%d %H:%M:%f', 'now')"))
    return datetime.fromisoformat(raw).replace(tzinfo=UTC)
