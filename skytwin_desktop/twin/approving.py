"""Answering approvals: approving re-checks the action against current policy, dual
confirmation takes two confirmations within 10 minutes, and every answer is feedback that can
move the trust tier."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy.orm import Session

from skytwin_desktop.domain import ApprovalStatus, Confirmation, Urgency
from skytwin_desktop.errors import InputError
from skytwin_desktop.policy import ProposedAction, RiskAssessment
from skytwin_desktop.policy.confirmation import confirm
from skytwin_desktop.policy.trust import Feedback
from skytwin_desktop.store.approvals import enqueue, stored_action
from skytwin_desktop.store.models import Approval
from skytwin_desktop.store.policy import (
    current_tier,
    load_policy_settings,
    record_feedback,
)
from skytwin_desktop.twin.executor import ApprovalGrant, issue_grant
from skytwin_desktop.twin.gate import LoggedDecision, PolicyGate

log = logging.getLogger(__name__)


class Outcome(StrEnum):
    APPROVED = "approved"
    NEEDS_SECOND_CONFIRMATION = "needs_second_confirmation"
    REFUSED = "refused"
    """Policy now denies it (a domain the person has since blocked, say): not executed."""
    EXPIRED = "expired"
    REJECTED = "rejected"


@dataclass(frozen=True)
class ApprovalAnswer:
    outcome: Outcome
    message: str
    grant: ApprovalGrant | None = None
    recheck: LoggedDecision | None = None
    """The fresh decision to execute with, when approved."""


def _load(session: Session, user_id: int, approval_id: int, now: datetime) -> Approval:
    """The approval, marked expired first if its time is up."""
    row = session.get(Approval, approval_id)
    if row is None or row.user_id != user_id:
        raise InputError(f"There is no approval #{approval_id}.")
    if row.status == ApprovalStatus.PENDING.value and row.expires_at <= now:
        row.status, row.resolved_at = ApprovalStatus.EXPIRED.value, now
        session.flush()
    return row


def _require_pending(row: Approval) -> None:
    if row.status != ApprovalStatus.PENDING.value:
        raise InputError(f"Approval #{row.id} is already {row.status}; nothing was done.")


def approve(session: Session, gate: PolicyGate, user_id: int, approval_id: int, *, now: datetime) -> ApprovalAnswer:
    """The person says yes. The pause does not block this (it stops only *auto*-execution), but a
    policy that now denies the action does."""
    row = _load(session, user_id, approval_id, now)
    if row.status == ApprovalStatus.EXPIRED.value:
        return ApprovalAnswer(Outcome.EXPIRED, f"Approval #{approval_id} expired; nothing was done.")
    _require_pending(row)
    action, risk = stored_action(row)
    recheck = gate.decide(session, user_id, action, settings=load_policy_settings(session, user_id),
                          trust_tier=current_tier(session, user_id), risk=risk, now=now)
    if not recheck.decision.allowed:
        row.status, row.resolved_at = ApprovalStatus.REJECTED.value, now
        row.resolution_note = f"Refused on re-check: {recheck.decision.message}"[:500]
        session.flush()
        return ApprovalAnswer(Outcome.REFUSED, row.resolution_note, recheck=recheck)
    needed = max(Confirmation(row.confirmation), recheck.decision.confirmation, key=lambda level: level.rank)
    row.confirmation = needed.value
    state = confirm(needed, row.confirmations_received, row.first_confirmed_at, now)
    row.confirmations_received, row.first_confirmed_at = state.received, state.first_at
    if not state.complete:
        session.flush()
        return ApprovalAnswer(Outcome.NEEDS_SECOND_CONFIRMATION,
                              "This needs a second confirmation within 10 minutes.", recheck=recheck)
    row.status, row.resolved_at = ApprovalStatus.APPROVED.value, now
    session.flush()
    record_feedback(session, user_id, Feedback.APPROVED, action_kind=row.action_kind, at=now,
                    risk=risk.overall, approval_id=row.id)
    log.info("Approval #%s approved (%s)", row.id, row.action_kind)
    return ApprovalAnswer(Outcome.APPROVED, "Approved.", grant=issue_grant(row.id, row.action_key), recheck=recheck)


def reject(session: Session, user_id: int, approval_id: int, *, now: datetime,
           note: str | None = None) -> ApprovalAnswer:
    """The person says no: nothing runs, and the rejection counts toward demotion."""
    row = _load(session, user_id, approval_id, now)
    _require_pending(row)
    _, risk = stored_action(row)
    row.status, row.resolved_at = ApprovalStatus.REJECTED.value, now
    row.resolution_note = (note or "").strip()[:500] or None
    session.flush()
    record_feedback(session, user_id, Feedback.REJECTED, action_kind=row.action_kind, at=now,
                    risk=risk.overall, approval_id=row.id)
    log.info("Approval #%s rejected (%s)", row.id, row.action_kind)
    return ApprovalAnswer(Outcome.REJECTED, "Rejected.")


def regrant(session: Session, user_id: int, approval_id: int) -> ApprovalGrant | None:
    """The grant of an approval the person already gave, for finishing its action after a crash."""
    row = session.get(Approval, approval_id)
    if row is None or row.user_id != user_id or row.status != ApprovalStatus.APPROVED.value:
        return None
    return issue_grant(row.id, row.action_key)


def request_by_person(session: Session, gate: PolicyGate, user_id: int, action: ProposedAction,
                      risk: RiskAssessment, *, now: datetime) -> ApprovalAnswer:
    """Something the person asked for themselves (an undo): judged and logged like any action, and
    recorded as an approval already given, since asking is approving. The pause does not stop it;
    a policy that denies it does."""
    logged = gate.decide(session, user_id, action, settings=load_policy_settings(session, user_id),
                         trust_tier=current_tier(session, user_id), risk=risk, now=now)
    if not logged.decision.allowed:
        return ApprovalAnswer(Outcome.REFUSED, f"Refused: {logged.decision.message}", recheck=logged)
    row, _ = enqueue(session, user_id, action, risk, logged.decision, urgency=Urgency.IMMEDIATE, now=now)
    if row.status == ApprovalStatus.PENDING.value:
        row.status, row.resolved_at, row.resolution_note = ApprovalStatus.APPROVED.value, now, "Asked for by you"
        session.flush()
    elif row.status != ApprovalStatus.APPROVED.value:
        return ApprovalAnswer(Outcome.REFUSED, f"This was already {row.status}.", recheck=logged)
    return ApprovalAnswer(Outcome.APPROVED, "Approved.", grant=issue_grant(row.id, row.action_key), recheck=logged)
