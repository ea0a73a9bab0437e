"""The twin at work: signals from the inbox become proposals, every proposal is judged (and
logged) by the gate, and then it runs through the executor, waits in Approvals, or stops there.

Idempotent across crashes: an action is recorded as `started` before its call to Google and
finished after it. A record still `started` at the next pass is resolved by asking Google whether
its effect is already there: if so it is marked done, otherwise it is judged again and run once.
A record is held by one process at a time (its pid and a lease), and by one thread here, so an
approval being carried out is never picked up as "left over" by a pass running beside it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from skytwin_desktop.connectors.failures import Cancelled, ConnectorFailure
from skytwin_desktop.connectors.writers import CannotApply
from skytwin_desktop.domain import ActionState, Connector, SetAsideStage, Urgency
from skytwin_desktop.errors import InputError, StoreError
from skytwin_desktop.outcomes import Answer, BatchReport
from skytwin_desktop.policy import PolicySettings, ProposedAction, RiskAssessment
from skytwin_desktop.policy.trust import Feedback
from skytwin_desktop.proposers import Proposal, ProposerSettings, propose
from skytwin_desktop.settings_spec import parse_sender_labels
from skytwin_desktop.signals import SetAside, signal_from_json
from skytwin_desktop.store import actions as store
from skytwin_desktop.store.approvals import (
    enqueue,
    enqueue_many,
    expire_due,
    stored_action,
)
from skytwin_desktop.store.connectors import add_to_inbox
from skytwin_desktop.store.database import Sessions
from skytwin_desktop.store.models import ActionRecord, Approval, User
from skytwin_desktop.store.policy import SettingsCache, current_tier, record_feedback
from skytwin_desktop.store.set_aside import set_aside, take_for_retry
from skytwin_desktop.store.users import load_settings
from skytwin_desktop.twin import approvals
from skytwin_desktop.twin.executor import ApprovalGrant, ExecutionRefused, Executor
from skytwin_desktop.twin.gate import LoggedDecision, PolicyGate
from skytwin_desktop.twin.handlers import UNDOABLE, Handlers, undo_action

log = logging.getLogger(__name__)
CHUNK = 250
"""Signals judged per transaction: big enough to be quick, small enough to keep writers moving."""
MAX_ATTEMPTS = 3
"""A record that failed transiently this many times is given up (and shown as failed)."""

_busy: set[int] = set()
"""Records a thread of this process is working on right now (approving, undoing, resolving)."""
_busy_lock = threading.Lock()


@contextmanager
def _exclusively(record_id: int) -> Iterator[bool]:
    """Hold a record for this thread; yields False (holding nothing) when another thread has it."""
    with _busy_lock:
        free = record_id not in _busy
        _busy.add(record_id)
    try:
        yield free
    finally:
        if free:
            with _busy_lock:
                _busy.discard(record_id)


@dataclass(frozen=True)
class _Planned:
    record_id: int
    action: ProposedAction
    risk: RiskAssessment
    urgency: Urgency
    logged: LoggedDecision
    settings: PolicySettings


def read_proposer_settings(session: Session, user_id: int) -> ProposerSettings:
    """What the proposers read: the person's own addresses, trusted contacts and sender labels."""
    stored = load_settings(session, user_id)
    labels: list[tuple[str, str]] = []
    for line in stored.sender_labels or []:
        try:
            labels.extend(parse_sender_labels([line]))
        except ValueError as exc:  # saved by an older version or by hand: skip, never stop the twin
            log.warning("Ignoring a sender label line: %s", exc)
    return ProposerSettings(
        own_addresses=frozenset(a.lower() for a in store.own_addresses(session, user_id) if "@" in a),
        trusted_contacts=frozenset(entry.lower() for entry in stored.trusted_contacts or []),
        sender_labels=tuple(labels),
        timezone=session.get_one(User, user_id).timezone,
    )


class Twin:
    def __init__(self, sessions: Sessions, user_id: int, gate: PolicyGate, handlers: Handlers,
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
    def process_inbox(self, progress: Callable[[], None] | None = None) -> BatchReport:
        """`progress()` after each chunk is decided and each action is carried out, so what the
        person sees follows a long pass (new approvals, done actions) instead of waiting for its end."""
        report = BatchReport()
        progress = progress or (lambda: None)
        with self._lock:
            with self._sessions.write() as session:
                expire_due(session, self.user_id, self.clock())  # expiry never executes anything
                retried = take_for_retry(session, self.user_id, stages=(SetAsideStage.STORE, SetAsideStage.JUDGE))
                add_to_inbox(session, self.user_id, [(Connector(row.connector_name), row.item_id, row.payload)
                                                           for row in retried])
            self._resolve_unfinished(report)
            with self._sessions.read() as session:
                waiting = store.inbox_count(session, self.user_id)
            limit = CHUNK
            for _ in range(waiting + 2):  # bounded: each round empties a chunk of the inbox, or sets one aside
                if self.stopping.is_set():
                    break
                try:
                    planned = self._decide_chunk(report, limit)
                except StoreError:
                    raise
                except Exception as exc:  # something in this chunk cannot be stored or judged: find it
                    if limit > 1:
                        limit = 1  # one signal at a time until the culprit is set aside
                    else:
                        self._set_aside_next(exc, report)
                    continue
                if planned is None:
                    break
                progress()
                for item in planned:
                    if self.stopping.is_set():
                        break  # left `started`: the next start resolves it
                    with _exclusively(item.record_id):
                        self._run_planned(item, report)
                    progress()
        if report.signals or report.resolved:
            log.info("Twin: %d signal(s), %d executed, %d for approval, %d refused, %d failed", report.signals,
                     report.executed, report.queued, report.denied, report.failed)
        return report

    def _set_aside_next(self, exc: Exception, report: BatchReport) -> None:
        """The oldest signal in the inbox could not be stored or judged even alone: keep it aside."""
        log.warning("A signal could not be judged (%s); it is set aside", type(exc).__name__)
        with self._sessions.write() as session:
            rows = store.take_inbox(session, self.user_id, 1)
            if rows:
                self._keep_aside(session, rows[0], f"the twin could not judge it ({type(exc).__name__})",
                                 SetAsideStage.STORE)
                store.mark_processed(session, self.user_id, rows)
                report.signals += 1

    def _keep_aside(self, session: Session, row: store.InboxItem, reason: str, stage: SetAsideStage) -> None:
        payload = row.payload if isinstance(row.payload, dict) else {}
        subject = payload.get("subject") or payload.get("summary") or ""
        sender = payload.get("sender") or payload.get("organizer") or ""
        set_aside(session, self.user_id, [SetAside(Connector(row.connector_name), row.signal_id, reason,
                                                   str(subject), str(sender), payload)], stage)

    def _decide_chunk(self, report: BatchReport, limit: int = CHUNK) -> list[_Planned] | None:
        """Propose for a chunk of the inbox, judge and log it all, queue what needs the person, and
        record (as `started`) what may run: one transaction, bulk statements."""
        now = self.clock()
        with self._sessions.write() as session:
            rows = store.take_inbox(session, self.user_id, limit)
            if rows is None:
                return None
            settings = self._settings.current(session)
            tier = current_tier(session, self.user_id)
            proposer_settings = read_proposer_settings(session, self.user_id)
            proposals: list[Proposal] = []
            for row in rows:
                try:
                    proposals.extend(propose(signal_from_json(Connector(row.connector_name), row.payload),
                                             proposer_settings))
                except Exception as exc:  # one odd signal must never stop the rest: set aside, shown
                    log.warning("A %s signal could not be judged (%s); it is set aside", row.connector_name,
                                type(exc).__name__)
                    self._keep_aside(session, row, f"the twin could not judge it ({type(exc).__name__})",
                                     SetAsideStage.JUDGE)
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
                                                decision_id=logged.log_id, urgency=proposal.urgency)
                    planned.append(_Planned(record.id, proposal.action, proposal.risk, proposal.urgency, logged,
                                            settings))
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

    def _rejudge(self, session: Session, row: ActionRecord, action: ProposedAction, risk: RiskAssessment,
                 urgency: Urgency, now: datetime, report: BatchReport) -> LoggedDecision | None:
        """Judge a recorded action again with today's settings. Returns the decision when it may
        still run by itself; otherwise moves it to Approvals (or refuses it) and returns None."""
        logged = self.gate.decide(session, self.user_id, action, settings=self._settings.current(session),
                                  trust_tier=current_tier(session, self.user_id), risk=risk, now=now)
        if logged.decision.auto_execute:
            row.decision_id = logged.log_id
            return logged
        if logged.decision.allowed:
            self._finish(row, ActionState.QUEUED, logged.decision.message, now)
            self._queue(session, action, risk, logged, urgency, now, report)
        else:
            self._finish(row, ActionState.REFUSED, logged.decision.message, now)
            report.denied += 1
        return None

    def _run_planned(self, item: _Planned, report: BatchReport) -> None:
        """Run one auto-executable action, unless the settings changed since it was judged (a pause
        mid-batch, say): then it is judged again, and goes to Approvals if it no longer may run."""
        logged: LoggedDecision | None = item.logged
        now = self.clock()
        with self._sessions.write() as session:
            if self._settings.current(session) is not item.settings:
                row = session.get_one(ActionRecord, item.record_id)
                logged = self._rejudge(session, row, item.action, item.risk, item.urgency, now, report)
        if logged is not None:
            self._execute(item.record_id, item.action, logged, None, report)

    def _execute(self, record_id: int, action: ProposedAction, logged: LoggedDecision,
                 grant: ApprovalGrant | None, report: BatchReport) -> tuple[ActionState, str]:
        """The call to Google, then the outcome and its words. The record is already `started` and
        held here."""
        state, detail, tried = ActionState.DONE, "", True
        try:
            detail = str(self.executor.execute(action, logged, grant))
        except Cancelled:
            state, detail, tried = ActionState.STARTED, "Interrupted by quitting; it runs at the next start", False
        except (CannotApply, ExecutionRefused) as exc:
            state, detail = ActionState.FAILED, f"Not run: {exc}"
        except ConnectorFailure as exc:
            state, detail = ActionState.STARTED, str(exc)
            if self.stopping.is_set():
                tried, detail = False, "Interrupted by quitting; it runs at the next start"
            elif exc.failure.permanent:  # the connector needs the person: wait for the reconnect
                tried, detail = False, f"Waiting: {exc}; it runs once that is fixed"
        with self._sessions.write() as session:
            row = session.get_one(ActionRecord, record_id)
            if tried and state is ActionState.STARTED:
                row.attempts += 1
                if row.attempts >= MAX_ATTEMPTS:
                    state, detail = ActionState.FAILED, f"Gave up after {row.attempts} tries: {detail}"
            self._finish(row, state, detail, self.clock())
        if state is ActionState.DONE:
            report.executed += 1
        elif state is ActionState.FAILED:
            report.failed += 1
            log.warning("%s failed: %s", action.kind, detail)
        return state, detail

    @staticmethod
    def _finish(row: ActionRecord, state: ActionState, detail: str, now: datetime) -> None:
        """Write the outcome and let go of the record."""
        row.state = state.value
        row.detail = detail[:500] or None
        if state is not ActionState.STARTED:
            row.finished_at = now
        store.release(row)

    # --- crash recovery ----------------------------------------------------------------------
    def _resolve_unfinished(self, report: BatchReport) -> None:
        with self._sessions.read() as session:
            ids = [row.id for row in store.unfinished(session, self.user_id)]
        for record_id in ids:
            if self.stopping.is_set():
                return
            with _exclusively(record_id) as free:
                if free:  # else a thread here (an approval, an undo) is carrying it out
                    self._resolve(record_id, report)

    def _resolve(self, record_id: int, report: BatchReport) -> None:
        now = self.clock()
        with self._sessions.write() as session:
            row = store.claim(session, self.user_id, record_id, states=(ActionState.STARTED, ActionState.UNDOING),
                              now=now)
            if row is None:
                return  # another process or thread is carrying it out
            action, risk = store.record_action(row)
            urgency, approval_id, undoing = store.record_urgency(row), row.approval_id, row.state == "undoing"
        checked = undo_action(action) if undoing else action
        try:
            already = self.handlers.is_done(checked)
        except (CannotApply, ExecutionRefused) as exc:
            with self._sessions.write() as session:
                row = session.get_one(ActionRecord, record_id)
                if undoing:
                    self._finish(row, ActionState.DONE, f"Could not be undone: {exc}", now)
                else:
                    self._finish(row, ActionState.FAILED, f"Not run: {exc}", now)
                    report.failed += 1
            return
        except (ConnectorFailure, Cancelled) as exc:
            with self._sessions.write() as session:  # cannot tell now; look again at the next pass
                row = session.get_one(ActionRecord, record_id)
                transient = isinstance(exc, ConnectorFailure) and not exc.failure.permanent
                if transient and not self.stopping.is_set() and not undoing:
                    row.attempts += 1
                    if row.attempts >= MAX_ATTEMPTS:
                        self._finish(row, ActionState.FAILED, f"Gave up after {row.attempts} tries: {exc}", now)
                        report.failed += 1
                        return
                store.release(row)
            return
        report.resolved += 1
        if undoing:
            self._settle_undo(record_id, risk, undone=already, now=now)
            return
        with self._sessions.write() as session:
            row = session.get_one(ActionRecord, record_id)
            if already:
                self._finish(row, ActionState.DONE, "Found already done at Google after an interruption; "
                                                    "not repeated", now)
                report.executed += 1
                return
            grant = approvals.regrant(session, self.user_id, approval_id) if approval_id else None
            if grant is None:
                logged = self._rejudge(session, row, action, risk, urgency, now, report)
            else:
                logged = self.gate.decide(session, self.user_id, action,
                                          settings=self._settings.current(session),
                                          trust_tier=current_tier(session, self.user_id), risk=risk, now=now)
                if not logged.decision.allowed:
                    self._finish(row, ActionState.REFUSED, logged.decision.message, now)
                    report.denied += 1
                    logged = None
        if logged is not None:
            self._execute(record_id, action, logged, grant, report)

    # --- the person's answers ------------------------------------------------------------------
    def approve(self, approval_id: int) -> Answer:
        """Approve and, once fully confirmed, carry the action out (network: not on the GUI thread)."""
        now = self.clock()
        with ExitStack() as holding:
            with self._sessions.write() as session:
                answer = approvals.approve(session, self.gate, self.user_id, approval_id, now=now)
                if answer.outcome is not approvals.Outcome.APPROVED:
                    return Answer(answer.outcome is approvals.Outcome.NEEDS_SECOND_CONFIRMATION, answer.message)
                assert answer.grant is not None and answer.recheck is not None
                row = session.get_one(Approval, approval_id)
                action, risk = stored_action(row)
                record = store.start_record(session, self.user_id, action, risk, now=now,
                                            urgency=Urgency(row.urgency), decision_id=answer.recheck.log_id,
                                            approval_id=approval_id)
                record_id = record.id
                holding.enter_context(_exclusively(record_id))  # before the commit: no pass beside may take it
            state, detail = self._execute(record_id, action, answer.recheck, answer.grant, BatchReport())
        if state is ActionState.DONE:
            return Answer(True, f"Approved. {detail}".strip(), record_id if action.kind in UNDOABLE else None)
        if state is ActionState.STARTED:
            return Answer(False, f"Approved; not carried out yet ({detail}).")
        return Answer(False, f"Approved, but it could not be carried out: {detail}")

    def reject(self, approval_id: int, note: str | None = None) -> Answer:
        with self._sessions.write() as session:
            answer = approvals.reject(session, self.user_id, approval_id, now=self.clock(), note=note)
        return Answer(True, answer.message)

    def undo(self, record_id: int) -> Answer:
        """Reverse an action the twin carried out, and count it as the person's feedback. The record
        is claimed first (`undoing`), so two requests never reverse it twice."""
        now = self.clock()
        with _exclusively(record_id) as free:
            if not free:
                raise InputError(f"Action #{record_id} is being worked on right now; try again in a moment.")
            with self._sessions.write() as session:
                row = store.get_record(session, self.user_id, record_id)
                if row is None:
                    raise InputError(f"There is no action #{record_id}.")
                if row.action_kind not in UNDOABLE:
                    raise InputError(f"A {row.action_kind.replace('_', ' ')} cannot be undone.")
                claimed = store.claim(session, self.user_id, record_id, states=(ActionState.DONE,), now=now)
                if claimed is None:
                    state = "already undone" if row.state == ActionState.UNDONE.value else (
                        "being undone" if row.state == ActionState.UNDOING.value else f"{row.state}, not done")
                    raise InputError(f"Action #{record_id} is {state}; there is nothing to undo.")
                action, risk = store.record_action(claimed)
                reverse = undo_action(action)
                answer = approvals.request_by_person(session, self.gate, self.user_id, reverse, risk, now=now)
                if answer.outcome is not approvals.Outcome.APPROVED:
                    store.release(claimed)
                    raise InputError(f"Not undone. {answer.message}")
                claimed.state = ActionState.UNDOING.value
            assert answer.recheck is not None
            try:
                detail = str(self.executor.execute(reverse, answer.recheck, answer.grant))
            except (CannotApply, ConnectorFailure, Cancelled, ExecutionRefused) as exc:
                with self._sessions.write() as session:
                    self._finish(session.get_one(ActionRecord, record_id), ActionState.DONE,
                                 f"Undo failed: {exc}", now)
                raise InputError(f"Could not undo: {exc}.") from None
            self._settle_undo(record_id, risk, undone=True, now=now, detail=detail)
        return Answer(True, f"Undone: {detail}.")

    def _settle_undo(self, record_id: int, risk: RiskAssessment, *, undone: bool, now: datetime,
                     detail: str = "found reversed at Google after an interruption") -> None:
        with self._sessions.write() as session:
            row = session.get_one(ActionRecord, record_id)
            if not undone:
                self._finish(row, ActionState.DONE, "The undo was interrupted before it reached Google", now)
                return
            self._finish(row, ActionState.UNDONE, f"Undone by you: {detail}", now)
            row.undone_at = now
            record_feedback(session, self.user_id, Feedback.UNDONE, action_kind=row.action_kind, at=now,
                            risk=risk.overall)
