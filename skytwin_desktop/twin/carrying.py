"""Carrying an action out, shared by the inbox pass, the recovery of unfinished actions and the
person's answers: judging it (again) with today's settings, the call to Google through the
executor, and writing the record's outcome.

Idempotent across crashes: an action is recorded as `started` before its call to Google and
finished after it, so a record still `started` later is resolved (`twin.recovery`) instead of run
twice.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from skytwin_desktop.connectors.failures import Cancelled, ConnectorFailure
from skytwin_desktop.connectors.writers import CannotApply
from skytwin_desktop.domain import ActionState, Urgency
from skytwin_desktop.outcomes import BatchReport
from skytwin_desktop.policy import ProposedAction, RiskAssessment
from skytwin_desktop.policy.trust import Feedback
from skytwin_desktop.store import actions as store
from skytwin_desktop.store.approvals import enqueue
from skytwin_desktop.store.database import Sessions
from skytwin_desktop.store.models import ActionRecord
from skytwin_desktop.store.policy import SettingsCache, current_tier, record_feedback
from skytwin_desktop.twin.executor import ApprovalGrant, ExecutionRefused, Executor
from skytwin_desktop.twin.gate import LoggedDecision, PolicyGate
from skytwin_desktop.twin.holds import Holds

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 3
"""A record that failed transiently this many times is given up (and shown as failed)."""
INTERRUPTED = "Interrupted by quitting; it runs at the next start"


class Carrier:
    """The parts every job of the twin works with, and the steps they share."""

    def __init__(self, sessions: Sessions, user_id: int, gate: PolicyGate, executor: Executor,
                 clock: Callable[[], datetime], stopping: threading.Event, holds: Holds) -> None:
        self.sessions = sessions
        self.user_id = user_id
        self.gate = gate
        self.executor = executor
        self.clock = clock
        self.stopping = stopping
        self.holds = holds
        self.settings = SettingsCache(user_id)

    def decide(self, session: Session, action: ProposedAction, risk: RiskAssessment, now: datetime) -> LoggedDecision:
        """Judge (and log) an action against the person's settings and tier as they are now."""
        return self.gate.decide(session, self.user_id, action, settings=self.settings.current(session),
                                trust_tier=current_tier(session, self.user_id), risk=risk, now=now)

    def rejudge(self, session: Session, row: ActionRecord, action: ProposedAction, risk: RiskAssessment,
                urgency: Urgency, now: datetime, report: BatchReport) -> LoggedDecision | None:
        """Judge a recorded action again with today's settings. Returns the decision when it may
        still run by itself; otherwise moves it to Approvals (or refuses it) and returns None."""
        logged = self.decide(session, action, risk, now)
        if logged.decision.auto_execute:
            row.decision_id = logged.log_id
            return logged
        if logged.decision.allowed:
            finish(row, ActionState.QUEUED, logged.decision.message, now)
            _, created = enqueue(session, self.user_id, action, risk, logged.decision, urgency=urgency, now=now)
            if created:
                report.queued += 1
                report.queued_targets.append(action.target)
        else:
            finish(row, ActionState.REFUSED, logged.decision.message, now)
            report.denied += 1
        return None

    def execute(self, record_id: int, action: ProposedAction, logged: LoggedDecision,
                grant: ApprovalGrant | None, report: BatchReport) -> tuple[ActionState, str]:
        """The call to Google, then the outcome and its words. The record is already `started` and
        held by the caller."""
        state, detail, tried = ActionState.DONE, "", True
        try:
            detail = str(self.executor.execute(action, logged, grant))
        except Cancelled:
            state, detail, tried = ActionState.STARTED, INTERRUPTED, False
        except (CannotApply, ExecutionRefused) as exc:
            state, detail = ActionState.FAILED, f"Not run: {exc}"
        except ConnectorFailure as exc:
            state, detail = ActionState.STARTED, str(exc)
            if self.stopping.is_set():
                tried, detail = False, INTERRUPTED
            elif exc.failure.permanent:  # the connector needs the person: wait for the reconnect
                tried, detail = False, f"Waiting: {exc}; it runs once that is fixed"
        with self.sessions.write() as session:
            row = session.get_one(ActionRecord, record_id)
            if tried and state is ActionState.STARTED:
                row.attempts += 1
                if row.attempts >= MAX_ATTEMPTS:
                    state, detail = ActionState.FAILED, f"Gave up after {row.attempts} tries: {detail}"
            finish(row, state, detail, self.clock())
        if state is ActionState.DONE:
            report.executed += 1
        elif state is ActionState.FAILED:
            report.failed += 1
            log.warning("%s failed: %s", action.kind, detail)
        return state, detail

    def settle_undo(self, record_id: int, risk: RiskAssessment, *, undone: bool, now: datetime,
                    detail: str = "found reversed at Google after an interruption") -> None:
        """The end of an undo: the record shows it, and it counts as the person's feedback."""
        with self.sessions.write() as session:
            row = session.get_one(ActionRecord, record_id)
            if not undone:
                finish(row, ActionState.DONE, "The undo was interrupted before it reached Google", now)
                return
            finish(row, ActionState.UNDONE, f"Undone by you: {detail}", now)
            row.undone_at = now
            record_feedback(session, self.user_id, Feedback.UNDONE, action_kind=row.action_kind, at=now,
                            risk=risk.overall)


def finish(row: ActionRecord, state: ActionState, detail: str, now: datetime) -> None:
    """Write the outcome and let go of the record."""
    row.state = state.value
    row.detail = detail[:500] or None
    if state is not ActionState.STARTED:
        row.finished_at = now
    store.release(row)
