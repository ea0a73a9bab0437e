"""Reading the status report from the store (one short read transaction)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from skytwin_desktop.domain import ApprovalStatus, Connector, HealthStatus, ReadProblem
from skytwin_desktop.status import ConnectorState, SetAsideEntry, StatusReport
from skytwin_desktop.store.connectors import reading_by_connector
from skytwin_desktop.store.health import health_by_connector
from skytwin_desktop.store.models import (
    Approval,
    ConnectorHealth,
    ConnectorReading,
    User,
)
from skytwin_desktop.store.set_aside import counts as set_aside_counts
from skytwin_desktop.store.set_aside import listed as listed_set_aside
from skytwin_desktop.store.users import load_settings


def read_status(session: Session, user_id: int, *, operator_paused: bool, now: datetime,
                running: bool = True) -> StatusReport:
    """Gather the report. A connector never set up reads as `disabled`."""
    user = session.get_one(User, user_id)
    settings = load_settings(session, user_id)
    stored = health_by_connector(session, user_id)
    reading = reading_by_connector(session, user_id)
    kept = set_aside_counts(session, user_id)
    connectors = {name: _connector_state(stored.get(name), reading.get(name), kept.get(name, 0)) for name in Connector}
    pending = session.scalar(
        select(func.count())
        .select_from(Approval)
        .where(
            Approval.user_id == user_id,
            Approval.status == ApprovalStatus.PENDING.value,
            Approval.expires_at > now,
        )
    )
    return StatusReport(
        user_id=user.id,
        email=user.email,
        trust_tier=user.trust_tier,
        operator_paused=operator_paused,
        user_paused=settings.paused,
        paused_at=settings.paused_at,
        paused_reason=settings.paused_reason,
        connectors=connectors,
        pending_approvals=pending or 0,
        running=running,
        at=now,
        set_aside=tuple(SetAsideEntry(Connector(row.connector_name), row.item_id, row.subject, row.sender, row.reason,
                                      row.stage, row.set_aside_at) for row in listed_set_aside(session, user_id)),
    )


def _connector_state(health: ConnectorHealth | None, reading: ConnectorReading | None, set_aside: int) -> ConnectorState:
    """A connector never set up reads as `disabled`; its reading problem counts only while connected."""
    if health is None:
        return ConnectorState(status=HealthStatus.DISABLED, set_aside=set_aside)
    status = HealthStatus(health.status)
    problem = reading.problem if reading is not None and status is HealthStatus.CONNECTED else None
    return ConnectorState(
        status=status, error_code=health.error_code, last_success_at=health.last_success_at,
        last_failure_at=health.last_failure_at, set_aside=set_aside,
        problem=ReadProblem(problem) if problem else None,
        problem_text=reading.detail if problem and reading else None,
        failing_since=reading.failing_since if problem and reading else None,
        retry_at=reading.retry_at if problem and reading else None,
    )
