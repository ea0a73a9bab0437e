"""The twin at work: signals from the inbox become proposals, every proposal is judged (and
logged) by the gate, and then it runs through the executor, waits in Approvals, or stops there.

Idempotent across crashes: an action is recorded as `started` before its call to Google and
finished after it. A record still `started` at the next run is resolved by asking Google whether
its effect is already there: if so it is marked done, otherwise it is judged again and run once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from skytwin_desktop.connectors.failures import ConnectorFailure
from skytwin_desktop.connectors.http import Cancelled
from skytwin_desktop.connectors.signals import signal_from_json
from skytwin_desktop.connectors.writers import Gone
from skytwin_desktop.domain import ActionState, Connector, Urgency
from skytwin_desktop.errors import InputError
from skytwin_desktop.policy import PolicySettings, ProposedAction, RiskAssessment
from skytwin_desktop.policy.trust import Feedback
from skytwin_desktop.proposers import Proposal, propose
from skytwin_desktop.store import actions as store
from skytwin_desktop.store.approvals import enqueue, enqueue_many, stored_action
from skytwin_desktop.store.models import ActionRecord, Approval
from skytwin_desktop.store.policy import SettingsCache, current_tier, record_feedback
from skytwin_desktop.twin import approvals
from skytwin_desktop.twin.executor import ApprovalGrant, ExecutionRefused, Executor
from skytwin_desktop.twin.gate import LoggedDecision, PolicyGate
from skytwin_desktop.twin.handlers import UNDOABLE, Handlers, undo_action

log = logging.getLogger(__name__)
CHUNK = 250
"""Signals judged per transaction: big enough to be quick, small enough to keep writers moving."""
MAX_ATTEMPTS = 3
"""A record that failed transiently this many times is given up (and shown as failed)."""

SessionFactory = Callable[[], AbstractContextManager[Session]]


@dataclass
class BatchReport:
    """What one pass over the inbox did, for the tray (one notification per pass, not per action)."""

    signals: int = 0
    proposed: int = 0
    executed: int = 0
    queued: int = 0
    denied: int = 0
    failed: int = 0
    resolved: int = 0
    queued_targets: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Planned:
    record_id: int
    action: ProposedAction
    risk: RiskAssessment
    logged: LoggedDecision
    settings: PolicySettings


class Twin:
    def __init__(self, sessions: SessionFactory, user_id: int, gate: PolicyGate, handlers: Handlers,
                 clock: Callable[[], datetime], executor: Executor | None = None,
                 stopping: threading.Event | None = None) -> None:
        self._sessions = sessions
        self.user_id = user_id
        self.gate = gate
        self.handlers = handlers
        self.executor = executor or Executor(handlers.kinds())
        self.clock = clock
        self.stopping = stopping or threading.Event()
        self._settings = SettingsCache(user_id)
        self._lock = threading.Lock()
        """One pass at a time: Gmail's and Calendar's polls may finish together."""

    # --- the inbox ------------------------------------------------------------------------
    def process_inbox(self) -> BatchReport:
        report = BatchReport()
        with self._lock:
            self._resolve_unfinished(report)
            with self._sessions() as session:
                waiting = store.inbox_count(session, self.user_id)
            for _ in range(waiting // CHUNK + 2):  # bounded: each pass empties a chunk of the inbox
                if self.stopping.is_set():
                    break
                planned = self._decide_chunk(report)
                if planned is None:
                    break
                for item in planned:
                    if self.stopping.is_set():
                        break  # left `started`: the next start resolves it
                    self._run_planned(item, report)
        if report.signals or report.resolved:
            log.info("Twin: %d signal(s), %d executed, %d for approval, %d refused, %d failed", report.signals,
                     report.executed, report.queued, report.denied, report.failed)
        return report

    def _decide_chunk(self, report: BatchReport) -> list[_Planned] | None:
        """Propose for a chunk of the inbox, judge and log it all, queue what needs the person, and
        record (as `started`) what may run: one transaction, bulk statements."""
        now = self.clock()
        with self._sessions() as session:
            rows = store.take_inbox(session, self.user_id, CHUNK)
            if not rows:
                return None
            settings = self._settings.current(session)
            tier = current_tier(session, self.user_id)
            proposer_settings = store.proposer_settings(session, self.user_id)
            proposals: list[Proposal] = []
            for row in rows:
                try:
                    signal = signal_from_json(Connector(row.connector_name), row.payload)
                except (KeyError, TypeError, ValueError):
                    log.warning("Skipping an unreadable %s signal", row.connector_name)
                    continue
                proposals.extend(propose(signal, proposer_settings))
            report.signals += len(rows)
            known = store.known_keys(session, self.user_id, [p.action.key for p in proposals])
            fresh: dict[str, Proposal] = {}
            for proposal in proposals:
                if proposal.action.key not in known:
                    fresh.setdefault(proposal.action.key, proposal)
            report.proposed += len(fresh)
            chosen = list(fresh.values())
            logged_all = self.gate.decide_many(session, self.user_id, [(p.action, p.risk) for p in chosen],
                                               settings=settings, trust_tier=tier, now=now)
            planned, waiting = [], []
            for proposal, logged in zip(chosen, logged_all, strict=True):
                if logged.decision.auto_execute:
                    record = store.start_record(session, self.user_id, proposal.action, proposal.risk, now=now,
                                                decision_id=logged.log_id)
                    planned.append(_Planned(record.id, proposal.action, proposal.risk, logged, settings))
                elif logged.decision.allowed:
                    waiting.append((proposal.action, proposal.risk, logged.decision, proposal.urgency))
                else:
                    report.denied += 1
            queued = enqueue_many(session, self.user_id, waiting, now=now)
            report.queued += len(queued)
            report.queued_targets.extend(action.target for action, *_ in waiting if action.key in queued)
            store.mark_processed(session, self.user_id, rows)
        return planned

    def _queue(self, session: Session, action: ProposedAction, risk: RiskAssessment, logged: LoggedDecision,
               urgency: Urgency, now: datetime, report: BatchReport) -> None:
        _, created = enqueue(session, self.user_id, action, risk, logged.decision, urgency=urgency, now=now)
        if created:
            report.queued += 1
            report.queued_targets.append(action.target)

    def _run_planned(self, item: _Planned, report: BatchReport) -> None:
        """Run one auto-executable action, unless the settings changed since it was judged (a pause
        mid-batch, say): then it is judged again, and goes to Approvals if it no longer may run."""
        logged = item.logged
        now = self.clock()
        with self._sessions() as session:
            settings = self._settings.current(session)
            if settings is not item.settings:
                logged = self.gate.decide(session, self.user_id, item.action, settings=settings,
                                          trust_tier=current_tier(session, self.user_id), risk=item.risk, now=now)
                if not logged.decision.auto_execute:
                    self._set_state(session, item.record_id, ActionState.QUEUED, logged.decision.message, now)
                    if logged.decision.allowed:
                        self._queue(session, item.action, item.risk, logged, Urgency.NORMAL, now, report)
                    else:
                        report.denied += 1
                    return
        self._execute(item.record_id, item.action, logged, None, report)

    def _execute(self, record_id: int, action: ProposedAction, logged: LoggedDecision,
                 grant: ApprovalGrant | None, report: BatchReport) -> ActionState:
        """The call to Google, then the outcome. The record is already `started`."""
        state, detail = ActionState.DONE, ""
        try:
            detail = str(self.executor.execute(action, logged, grant))
        except Cancelled:
            return ActionState.STARTED
        except Gone as exc:
            state, detail = ActionState.FAILED, str(exc)
        except ConnectorFailure as exc:
            state = ActionState.FAILED if exc.failure.permanent else ActionState.STARTED
            detail = str(exc)
        except ExecutionRefused as exc:
            state, detail = ActionState.FAILED, f"Not run: {exc}"
        with self._sessions() as session:
            row = session.get_one(ActionRecord, record_id)
            row.attempts += 1
            if state is ActionState.STARTED and row.attempts >= MAX_ATTEMPTS:
                state, detail = ActionState.FAILED, f"Gave up after {row.attempts} tries: {detail}"
            self._set_state(session, record_id, state, detail, self.clock(), row)
        if state is ActionState.DONE:
            report.executed += 1
        elif state is ActionState.FAILED:
            report.failed += 1
            log.warning("%s failed: %s", action.kind, detail)
        return state

    @staticmethod
    def _set_state(session: Session, record_id: int, state: ActionState, detail: str, now: datetime,
                   row: ActionRecord | None = None) -> None:
        row = row or session.get_one(ActionRecord, record_id)
        row.state = state.value
        row.detail = detail[:500] or None
        if state is not ActionState.STARTED:
            row.finished_at = now
        session.flush()

    # --- crash recovery ----------------------------------------------------------------------
    def _resolve_unfinished(self, report: BatchReport) -> None:
        with self._sessions() as session:
            rows = [(row.id, row.approval_id, *store.record_action(row)) for row in store.unfinished(session, self.user_id)]
        for record_id, approval_id, action, risk in rows:
            if self.stopping.is_set():
                return
            try:
                already = self.handlers.is_done(action)
            except (Gone, ExecutionRefused) as exc:
                with self._sessions() as session:
                    self._set_state(session, record_id, ActionState.FAILED, str(exc), self.clock())
                report.failed += 1
                continue
            except (ConnectorFailure, Cancelled):
                continue  # cannot tell now; the next pass looks again
            report.resolved += 1
            if already:
                with self._sessions() as session:
                    self._set_state(session, record_id, ActionState.DONE,
                                    "Found already done at Google after an interruption; not repeated", self.clock())
                report.executed += 1
                continue
            now = self.clock()
            with self._sessions() as session:
                grant = approvals.regrant(session, self.user_id, approval_id) if approval_id else None
                logged = self.gate.decide(session, self.user_id, action, settings=self._settings.current(session),
                                          trust_tier=current_tier(session, self.user_id), risk=risk, now=now)
                if not logged.decision.auto_execute and grant is None:
                    self._set_state(session, record_id, ActionState.QUEUED, logged.decision.message, now)
                    if logged.decision.allowed:
                        self._queue(session, action, risk, logged, Urgency.NORMAL, now, report)
                    continue
            self._execute(record_id, action, logged, grant, report)

    # --- the person's answers ------------------------------------------------------------------
    def approve(self, approval_id: int) -> str:
        """Approve and, once fully confirmed, carry the action out (network: not on the GUI thread)."""
        now = self.clock()
        with self._sessions() as session:
            answer = approvals.approve(session, self.gate, self.user_id, approval_id, now=now)
            if answer.outcome is not approvals.Outcome.APPROVED:
                return answer.message
            assert answer.grant is not None and answer.recheck is not None
            action, risk = stored_action(session.get_one(Approval, approval_id))
            record = store.start_record(session, self.user_id, action, risk, now=now,
                                        decision_id=answer.recheck.log_id, approval_id=approval_id)
            record_id = record.id
        state = self._execute(record_id, action, answer.recheck, answer.grant, BatchReport())
        with self._sessions() as session:
            detail = session.get_one(ActionRecord, record_id).detail or ""
        if state is ActionState.DONE:
            return f"Approved. {detail}".strip()
        if state is ActionState.STARTED:
            return f"Approved; it will be carried out when Google can be reached ({detail})."
        return f"Approved, but it could not be carried out: {detail}"

    def reject(self, approval_id: int, note: str | None = None) -> str:
        with self._sessions() as session:
            return approvals.reject(session, self.user_id, approval_id, now=self.clock(), note=note).message

    def undo(self, record_id: int) -> str:
        """Reverse an action the twin carried out, and count it as the person's feedback."""
        now = self.clock()
        with self._sessions() as session:
            row = store.get_record(session, self.user_id, record_id)
            if row is None:
                raise InputError(f"There is no action #{record_id}.")
            if row.state == ActionState.UNDONE.value:
                raise InputError(f"Action #{record_id} was already undone.")
            if row.state != ActionState.DONE.value:
                raise InputError(f"Action #{record_id} was not carried out ({row.state}); there is nothing to undo.")
            action, risk = store.record_action(row)
            if action.kind not in UNDOABLE:
                raise InputError(f"A {action.kind.replace('_', ' ')} cannot be undone.")
            reverse = undo_action(action)
            answer = approvals.request_by_person(session, self.gate, self.user_id, reverse, risk, now=now)
        if answer.outcome is not approvals.Outcome.APPROVED:
            return answer.message
        assert answer.recheck is not None
        try:
            detail = str(self.executor.execute(reverse, answer.recheck, answer.grant))
        except Gone as exc:
            raise InputError(f"Could not undo: {exc}.") from None
        except (ConnectorFailure, Cancelled, ExecutionRefused) as exc:
            raise InputError(f"Could not undo: {exc}.") from None
        with self._sessions() as session:
            row = session.get_one(ActionRecord, record_id)
            row.state, row.undone_at = ActionState.UNDONE.value, now
            row.detail = f"Undone by you: {detail}"[:500]
            record_feedback(session, self.user_id, Feedback.UNDONE, action_kind=row.action_kind, at=now,
                            risk=risk.overall)
        return f"Undone: {detail}."

