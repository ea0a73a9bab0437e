"""Connector health rows: the one place a connector's state is written and read."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects.sqlite import insert
from sqlalchemy.orm import Session

from skytwin_desktop.domain import Connector, HealthStatus
from skytwin_desktop.store.models import ConnectorHealth
from skytwin_desktop.store.types import DB_NOW


def record_health(
    session: Session,
    user_id: int,
    connector: Connector,
    status: HealthStatus,
    *,
    at: datetime,
    error_code: str | None = None,
) -> None:
    """Upsert one connector's health.

    A success stamps last_success_at and keeps the stored last_failure_at; a needs_reauth stamps
    last_failure_at and keeps the stored last_success_at, so a flap never erases the last-good
    marker. `updated_at` always comes from the database's clock.
    """
    status, connector = HealthStatus(status), Connector(connector)
    success_at = at if status is HealthStatus.CONNECTED else None
    failure_at = at if status is HealthStatus.NEEDS_REAUTH else None
    statement = insert(ConnectorHealth).values(
        user_id=user_id,
        connector_name=connector.value,
        status=status.value,
        error_code=None if status is HealthStatus.CONNECTED else error_code,
        last_success_at=success_at,
        last_failure_at=failure_at,
    )
    excluded = statement.excluded
    statement = statement.on_conflict_do_update(
        index_elements=[ConnectorHealth.user_id, ConnectorHealth.connector_name],
        set_={
            ConnectorHealth.status: excluded.status,
            ConnectorHealth.error_code: excluded.error_code,
            ConnectorHealth.last_success_at: func.coalesce(excluded.last_success_at, ConnectorHealth.last_success_at),
            ConnectorHealth.last_failure_at: func.coalesce(excluded.last_failure_at, ConnectorHealth.last_failure_at),
            ConnectorHealth.updated_at: DB_NOW,
        },
    )
    session.execute(statement)


def health_by_connector(session: Session, user_id: int) -> dict[Connector, ConnectorHealth]:
    rows = session.scalars(select(ConnectorHealth).where(ConnectorHealth.user_id == user_id))
    return {Connector(row.connector_name): row for row in rows}
