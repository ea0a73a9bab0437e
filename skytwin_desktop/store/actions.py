"""The twin's working rows: the signal inbox it drains, the processed-signals ledger, action
records, and the settings its proposers read."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.sqlite import insert
from sqlalchemy.orm import Session

from skytwin_desktop.domain import ActionState, HealthStatus, Urgency
from skytwin_desktop.errors import InputError
from skytwin_desktop.policy import ProposedAction, RiskAssessment
from skytwin_desktop.store.models import (
    ActionRecord,
    Approval,
    ConnectorAccount,
    ConnectorHealth,
    ProcessedSignal,
    SignalInboxRow,
    table,
)

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=2)
"""How long a process holds an action it is carrying out: longer than a call to Google can take."""


@dataclass(frozen=True, slots=True)
class InboxItem:
    connector_name: str
    signal_id: str
    payload: dict[str, Any]


def take_inbox(session: Session, user_id: int, limit: int) -> list[InboxItem] | None:
    """The oldest waiting signals, skipping (and clearing) any the ledger says were handled;
    None when the inbox is empty."""
    rows = [InboxItem(*row) for row in session.execute(
        select(SignalInboxRow.connector_name, SignalInboxRow.signal_id, SignalInboxRow.payload)
        .where(SignalInboxRow.user_id == user_id)
        .order_by(SignalInboxRow.received_at, SignalInboxRow.signal_id).limit(limit))]
    if not rows:
        return None
    done: set[tuple[str, str]] = set()
    for name, ids in _by_connector(rows).items():
        done.update((name, signal_id) for signal_id in session.scalars(
            select(ProcessedSignal.signal_id).where(ProcessedSignal.user_id == user_id,
                                                    ProcessedSignal.connector_name == name,
                                                    ProcessedSignal.signal_id.in_(ids))))
    if done:
        mark_processed(session, user_id, [row for row in rows if (row.connector_name, row.signal_id) in done])
    return [row for row in rows if (row.connector_name, row.signal_id) not in done]


def _by_connector(rows: Iterable[InboxItem]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for row in rows:
        grouped.setdefault(row.connector_name, []).append(row.signal_id)
    return grouped


def mark_processed(session: Session, user_id: int, rows: Iterable[InboxItem]) -> None:
    """Move signals from the inbox to the ledger, in the caller's transaction."""
    for name, ids in _by_connector(rows).items():
        session.connection().execute(insert(table(ProcessedSignal)).on_conflict_do_nothing(),
                                     [{"user_id": user_id, "connector_name": name, "signal_id": signal_id}
                                      for signal_id in ids])
        session.execute(delete(SignalInboxRow).where(SignalInboxRow.user_id == user_id,
                                                     SignalInboxRow.connector_name == name,
                                                     SignalInboxRow.signal_id.in_(ids)))


def known_keys(session: Session, user_id: int, keys: list[str]) -> set[str]:
    """Action keys already queued or carried out: those are never decided again."""
    if not keys:
        return set()
    queued = session.scalars(select(Approval.action_key).where(Approval.user_id == user_id,
                                                               Approval.action_key.in_(keys)))
    recorded = session.scalars(select(ActionRecord.action_key).where(ActionRecord.user_id == user_id,
                                                                     ActionRecord.action_key.in_(keys)))
    return {*queued, *recorded}


def start_record(session: Session, user_id: int, action: ProposedAction, risk: RiskAssessment, *, now: datetime,
                 decision_id: int | None, approval_id: int | None = None,
                 urgency: Urgency = Urgency.NORMAL) -> ActionRecord:
    """Record the action as `started`, held by this process, before anything is sent to Google.
    An action that already has a record (it went to Approvals mid-batch) reuses it."""
    row = session.scalars(select(ActionRecord).where(ActionRecord.user_id == user_id,
                                                     ActionRecord.action_key == action.key)).first()
    if row is None:
        row = ActionRecord(user_id=user_id, action_key=action.key, action_kind=action.kind,
                           target=action.target[:500])
        session.add(row)
    elif row.state not in (ActionState.QUEUED.value, ActionState.REFUSED.value):
        raise InputError(f"This action is already {row.state}; it is not run again.")
    row.action = {"action": action.to_json(), "risk": risk.to_json(), "urgency": Urgency(urgency).value}
    row.state, row.decision_id, row.approval_id = ActionState.STARTED.value, decision_id, approval_id
    row.attempts, row.started_at, row.finished_at, row.detail = 0, now, None, None
    row.owner_pid, row.lease_until = os.getpid(), now + LEASE
    session.flush()
    return row


def record_action(row: ActionRecord) -> tuple[ProposedAction, RiskAssessment]:
    return ProposedAction.from_json(row.action["action"]), RiskAssessment.from_json(row.action["risk"])


def record_urgency(row: ActionRecord) -> Urgency:
    return Urgency(row.action.get("urgency", Urgency.NORMAL.value))


def claim(session: Session, user_id: int, record_id: int, *, states: tuple[ActionState, ...],
          now: datetime) -> ActionRecord | None:
    """Take a record for this process, unless another living process holds it and its lease runs
    (threads of this process keep out of each other's way themselves). Transactions start with
    BEGIN IMMEDIATE, so this read and write are one step for every process."""
    row = get_record(session, user_id, record_id)
    if row is None or row.state not in {state.value for state in states}:
        return None
    held = row.lease_until is not None and row.lease_until > now
    if row.owner_pid not in (None, os.getpid()) and held and _alive(row.owner_pid):
        return None
    row.owner_pid, row.lease_until = os.getpid(), now + LEASE
    session.flush()
    return row


def release(row: ActionRecord) -> None:
    row.owner_pid = row.lease_until = None


def _alive(pid: int) -> bool:
    """Whether a process runs (POSIX); elsewhere assume so and let the lease decide."""
    if os.name != "posix":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def unfinished(session: Session, user_id: int) -> list[ActionRecord]:
    """Records a crash (or a wait for Google) may have left half-done: started, or being undone."""
    return list(session.scalars(select(ActionRecord).where(
        ActionRecord.user_id == user_id,
        ActionRecord.state.in_((ActionState.STARTED.value, ActionState.UNDOING.value))).order_by(ActionRecord.id)))


def get_record(session: Session, user_id: int, record_id: int) -> ActionRecord | None:
    row = session.get(ActionRecord, record_id)
    return row if row is not None and row.user_id == user_id else None


def own_addresses(session: Session, user_id: int) -> list[str]:
    """The Google accounts of the person's connected services."""
    return list(session.scalars(select(ConnectorAccount.account_email).join(
        ConnectorHealth, (ConnectorHealth.user_id == ConnectorAccount.user_id)
        & (ConnectorHealth.connector_name == ConnectorAccount.connector_name)).where(
        ConnectorAccount.user_id == user_id, ConnectorHealth.status != HealthStatus.DISABLED.value)))


def inbox_count(session: Session, user_id: int) -> int:
    query = select(func.count()).select_from(SignalInboxRow).where(SignalInboxRow.user_id == user_id)
    return session.scalar(query) or 0
