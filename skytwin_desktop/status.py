"""A snapshot of what the twin is doing, for `skytwin-desktop status` and the tray."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from skytwin_desktop.domain import ApprovalStatus, Connector, HealthStatus, TrustTier
from skytwin_desktop.store.health import health_by_connector
from skytwin_desktop.store.models import Approval, User
from skytwin_desktop.store.types import iso_utc
from skytwin_desktop.store.users import load_settings


@dataclass(frozen=True)
class ConnectorState:
    status: HealthStatus
    error_code: str | None = None
    last_success_at: datetime | None = None
    last_failure_at: datetime | None = None


@dataclass(frozen=True)
class StatusReport:
    user_id: int
    email: str | None
    trust_tier: str
    operator_paused: bool
    user_paused: bool
    paused_at: datetime | None
    paused_reason: str | None
    connectors: dict[Connector, ConnectorState]
    pending_approvals: int

    @property
    def needs_reauth(self) -> tuple[Connector, ...]:
        """The connectors the person must reconnect, in a stable order."""
        return tuple(name for name, state in self.connectors.items() if state.status is HealthStatus.NEEDS_REAUTH)

    @property
    def any_needs_reauth(self) -> bool:
        return bool(self.needs_reauth)

    def to_json(self) -> dict[str, Any]:
        return {
            "user": {"id": self.user_id, "email": self.email, "trust_tier": self.trust_tier},
            "pause": {
                "operator": self.operator_paused,
                "user": self.user_paused,
                "paused_at": iso_utc(self.paused_at),
                "reason": self.paused_reason,
            },
            "connectors": {
                name.value: {
                    "status": state.status.value,
                    "error_code": state.error_code,
                    "last_success_at": iso_utc(state.last_success_at),
                    "last_failure_at": iso_utc(state.last_failure_at),
                }
                for name, state in self.connectors.items()
            },
            "any_needs_reauth": self.any_needs_reauth,
            "pending_approvals": self.pending_approvals,
        }


def read_status(session: Session, user_id: int, *, operator_paused: bool, now: datetime) -> StatusReport:
    """Gather the report. A connector never set up reads as `disabled`."""
    user = session.get_one(User, user_id)
    settings = load_settings(session, user_id)
    stored = health_by_connector(session, user_id)
    connectors = {
        name: (
            ConnectorState(
                status=HealthStatus(row.status),
                error_code=row.error_code,
                last_success_at=row.last_success_at,
                last_failure_at=row.last_failure_at,
            )
            if (row := stored.get(name))
            else ConnectorState(status=HealthStatus.DISABLED)
        )
        for name in Connector
    }
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
    )


def format_report(report: StatusReport) -> str:
    """The readable table `skytwin-desktop status` prints."""
    tier = report.trust_tier
    try:
        tier_text = f"{TrustTier(tier).label} ({tier})"
    except ValueError:
        tier_text = f"{tier} (unknown: nothing will auto-execute)"
    lines = [
        f"Person       #{report.user_id} {report.email or '(no Google account connected yet)'}",
        f"Trust tier   {tier_text}",
        f"Auto-execute {pause_line(report)}",
        f"Approvals    {report.pending_approvals} pending",
        "",
        f"{'Connector':<10} {'Status':<13} {'Last success':<25} {'Last failure':<25} Error",
    ]
    for name, state in report.connectors.items():
        lines.append(
            f"{name.value:<10} {state.status.value:<13} {iso_utc(state.last_success_at) or '-':<25} "
            f"{iso_utc(state.last_failure_at) or '-':<25} {state.error_code or '-'}"
        )
    return "\n".join(lines)


def pause_line(report: StatusReport) -> str:
    parts = []
    if report.operator_paused:
        parts.append("PAUSED by the administrator (SKYTWIN_AUTO_EXECUTE_DISABLED)")
    if report.user_paused:
        since = iso_utc(report.paused_at) or "unknown time"
        reason = f' - "{report.paused_reason}"' if report.paused_reason else ""
        parts.append(f"PAUSED by you since {since}{reason}")
    return "; ".join(parts) if parts else "on (actions your settings allow run by themselves)"
