"""Actions left unfinished by a crash or a quit: a record still `started` (or `undoing`) is
resolved by asking Google whether its effect is already there. If so it is marked done; otherwise
it is judged again and run once."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from skytwin_desktop.connectors.failures import Cancelled, ConnectorFailure
from skytwin_desktop.connectors.writers import CannotApply
from skytwin_desktop.domain import ActionState, Urgency
from skytwin_desktop.outcomes import BatchReport
from skytwin_desktop.policy import ProposedAction, RiskAssessment
from skytwin_desktop.store import actions as store
from skytwin_desktop.store.models import ActionRecord
from skytwin_desktop.twin import approving
from skytwin_desktop.twin.carrying import MAX_ATTEMPTS, Carrier, finish
from skytwin_desktop.twin.executor import ExecutionRefused
from skytwin_desktop.twin.steps import Actions, undo_action


class Recovery:
    def __init__(self, carrier: Carrier, actions: Actions) -> None:
        self._carrier = carrier
        self._actions = actions

    def resolve_unfinished(self, report: BatchReport) -> None:
        carrier = self._carrier
        with carrier.sessions.read() as session:
            ids = [row.id for row in store.unfinished(session, carrier.user_id)]
        for record_id in ids:
            if carrier.stopping.is_set():
                return
            with carrier.holds.exclusively(record_id) as free:
                if free:  # else a thread here (an approval, an undo) is carrying it out
                    self._resolve(record_id, report)

    def _resolve(self, record_id: int, report: BatchReport) -> None:
        """Ask Google whether the effect is there; then mark it done, settle the undo, or run it once."""
        now = self._carrier.clock()
        left = self._claim(record_id, now)
        if left is None:
            return  # another process or thread is carrying it out
        try:
            already = self._actions.is_done(undo_action(left.action) if left.undoing else left.action)
        except (CannotApply, ExecutionRefused) as exc:
            self._impossible(left, exc, now, report)
            return
        except (ConnectorFailure, Cancelled) as exc:
            self._look_again_later(left, exc, now, report)
            return
        report.resolved += 1
        if left.undoing:
            self._carrier.settle_undo(record_id, left.risk, undone=already, now=now)
        else:
            self._carry_on(left, already, now, report)

    def _claim(self, record_id: int, now: datetime) -> _Unfinished | None:
        carrier = self._carrier
        with carrier.sessions.write() as session:
            row = store.claim(session, carrier.user_id, record_id, states=(ActionState.STARTED, ActionState.UNDOING),
                              now=now)
            if row is None:
                return None
            action, risk = store.record_action(row)
            return _Unfinished(record_id, action, risk, store.record_urgency(row), row.approval_id,
                               row.state == "undoing")

    def _impossible(self, left: _Unfinished, exc: Exception, now: datetime, report: BatchReport) -> None:
        """Google says it cannot be done (the message is gone): it ends here, in words."""
        with self._carrier.sessions.write() as session:
            row = session.get_one(ActionRecord, left.record_id)
            if left.undoing:
                finish(row, ActionState.DONE, f"Could not be undone: {exc}", now)
            else:
                finish(row, ActionState.FAILED, f"Not run: {exc}", now)
                report.failed += 1

    def _look_again_later(self, left: _Unfinished, exc: ConnectorFailure | Cancelled, now: datetime,
                          report: BatchReport) -> None:
        """Cannot tell now: released for the next pass, until a passing failure has used up its tries."""
        carrier = self._carrier
        with carrier.sessions.write() as session:
            row = session.get_one(ActionRecord, left.record_id)
            transient = isinstance(exc, ConnectorFailure) and not exc.failure.permanent
            if transient and not carrier.stopping.is_set() and not left.undoing:
                row.attempts += 1
                if row.attempts >= MAX_ATTEMPTS:
                    finish(row, ActionState.FAILED, f"Gave up after {row.attempts} tries: {exc}", now)
                    report.failed += 1
                    return
            store.release(row)

    def _carry_on(self, left: _Unfinished, already: bool, now: datetime, report: BatchReport) -> None:
        """Done already: marked so. Otherwise judged again (an approval given before still counts)
        and run once."""
        carrier = self._carrier
        with carrier.sessions.write() as session:
            row = session.get_one(ActionRecord, left.record_id)
            if already:
                finish(row, ActionState.DONE, "Found already done at Google after an interruption; not repeated", now)
                report.executed += 1
                return
            grant = approving.regrant(session, carrier.user_id, left.approval_id) if left.approval_id else None
            if grant is None:
                logged = carrier.rejudge(session, row, left.action, left.risk, left.urgency, now, report)
            else:
                logged = carrier.decide(session, left.action, left.risk, now)
                if not logged.decision.allowed:
                    finish(row, ActionState.REFUSED, logged.decision.message, now)
                    report.denied += 1
                    logged = None
        if logged is not None:
            carrier.execute(left.record_id, left.action, logged, grant, report)


class _Unfinished(NamedTuple):
    """A claimed record's action, as stored."""

    record_id: int
    action: ProposedAction
    risk: RiskAssessment
    urgency: Urgency
    approval_id: int | None
    undoing: bool
