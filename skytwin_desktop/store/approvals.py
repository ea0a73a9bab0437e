"""The approvals queue's rows: what waits for the person, and how it ends."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.sqlite import insert
from sqlalchemy.orm import Session

from skytwin_desktop.domain import ApprovalStatus, Confirmation, Urgency
from skytwin_desktop.policy import Decision, ProposedAction, RiskAssessment
from skytwin_desktop.policy.confirmation import expires_at
from skytwin_desktop.store.database import rows_changed
from skytwin_desktop.store.models import Approval, table


def _row(user_id: int, action: ProposedAction, risk: RiskAssessment, decision: Decision, urgency: Urgency,
         now: datetime) -> dict[str, Any]:
    return {
        "user_id": user_id,
        "action_key": action.key,
        "action_kind": action.kind,
        "target": action.target[:500],
        "action": {"action": action.to_json(), "risk": risk.to_json()},
        "status": ApprovalStatus.PENDING.value,
        "urgency": Urgency(urgency).value,
        "confirmation": (decision.confirmation if decision.confirmation is not Confirmation.NONE
                         else Confirmation.SINGLE).value,
        "reason_code": decision.reason_code,
        "reason": decision.message,
        "decided_by": decision.decided_by.value,
        "created_at": now,
        "expires_at": expires_at(urgency, now),
    }


def enqueue_many(session: Session, user_id: int,
                 items: list[tuple[ProposedAction, RiskAssessment, Decision, Urgency]], *, now: datetime) -> set[str]:
    """Queue a poll's worth in one statement; an action key already queued is left alone. Returns
    the keys that were queued now."""
    if not items:
        return set()
    queue = table(Approval)  # Core, not the ORM's bulk layer
    statement = insert(queue).on_conflict_do_nothing(
        index_elements=[queue.c.user_id, queue.c.action_key]).returning(queue.c.action_key)
    return set(session.connection().scalars(statement, [_row(user_id, *item, now=now) for item in items]))


def enqueue(session: Session, user_id: int, action: ProposedAction, risk: RiskAssessment, decision: Decision,
            *, urgency: Urgency, now: datetime) -> tuple[Approval, bool]:
    """Queue an action once; the same action key returns the existing row (and False)."""
    existing = session.scalars(
        select(Approval).where(Approval.user_id == user_id, Approval.action_key == action.key)
    ).first()
    if existing is not None:
        return existing, False
    row = Approval(**_row(user_id, action, risk, decision, urgency, now))
    session.add(row)
    session.flush()
    return row, True


def stored_action(row: Approval) -> tuple[ProposedAction, RiskAssessment]:
    return ProposedAction.from_json(row.action["action"]), RiskAssessment.from_json(row.action["risk"])


def expire_due(session: Session, user_id: int, now: datetime) -> int:
    """Mark every unanswered approval past its time as expired. Expiry never executes anything."""
    return rows_changed(session, update(Approval)
                        .where(Approval.user_id == user_id, Approval.status == ApprovalStatus.PENDING.value,
                               Approval.expires_at <= now)
                        .values(status=ApprovalStatus.EXPIRED.value, resolved_at=now))


def pending(session: Session, user_id: int, now: datetime) -> list[Approval]:
    return list(session.scalars(
        select(Approval)
        .where(Approval.user_id == user_id, Approval.status == ApprovalStatus.PENDING.value, Approval.expires_at > now)
        .order_by(Approval.expires_at, Approval.id)
    ))
