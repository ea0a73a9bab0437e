"""Forgetting old history, so the database is bounded by what the person keeps rather than by how
long the app has run: decisions, finished actions, answered approvals and the ledger of handled
items older than the person's `history_days`. What is still open (an action under way, an
approval waiting) and what steers the twin (trust feedback and tier changes, settings, rules,
items set aside) is never touched."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func
from sqlalchemy.orm import Session

from skytwin_desktop.domain import ActionState, ApprovalStatus
from skytwin_desktop.store.database import rows_changed
from skytwin_desktop.store.models import ActionRecord, Approval, DecisionLogEntry, ProcessedSignal
from skytwin_desktop.store.users import load_settings

LEDGER_FLOOR = timedelta(days=30)
"""The ledger of handled items is kept at least this long: a first sync after a gap reads mail up
to a week old, which must still be known as handled."""


def forget_old_history(session: Session, user_id: int, now: datetime) -> dict[str, int]:
    """Rows removed per table, in the caller's transaction."""
    cutoff = now - timedelta(days=load_settings(session, user_id).history_days)
    finished = [state.value for state in ActionState if state is not ActionState.STARTED]
    statements = {
        "decision_log": delete(DecisionLogEntry).where(DecisionLogEntry.user_id == user_id,
                                                       DecisionLogEntry.decided_at < cutoff),
        "action_records": delete(ActionRecord).where(
            ActionRecord.user_id == user_id, ActionRecord.state.in_(finished),
            func.coalesce(ActionRecord.finished_at, ActionRecord.started_at) < cutoff),
        "approvals": delete(Approval).where(
            Approval.user_id == user_id,
            ((Approval.status != ApprovalStatus.PENDING.value) & (func.coalesce(Approval.resolved_at,
                                                                                Approval.expires_at) < cutoff))
            | ((Approval.status == ApprovalStatus.PENDING.value) & (Approval.expires_at < cutoff))),
        "processed_signals": delete(ProcessedSignal).where(
            ProcessedSignal.user_id == user_id, ProcessedSignal.processed_at < min(cutoff, now - LEDGER_FLOOR)),
    }
    return {table: rows_changed(session, statement) for table, statement in statements.items()}
