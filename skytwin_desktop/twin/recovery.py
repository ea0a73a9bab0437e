"""Actions left unfinished by a crash or a quit: a record still `started` (or `undoing`) is
resolved by asking Google whether its effect is already there. If so it is marked done; otherwise
it is judged again and run once."""

from __future__ import annotations

from skytwin_desktop.connectors.failures import Cancelled, ConnectorFailure
from skytwin_desktop.connectors.writers import CannotApply
from skytwin_desktop.domain import ActionState
from skytwin_desktop.outcomes import BatchReport
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
        carrier = self._carrier
        now = carrier.clock()
        with carrier.sessions.write() as session:
            row = store.claim(session, carrier.user_id, record_id, states=(ActionState.STARTED, ActionState.UNDOING),
                              now=now)
            if row is None:
                return  # another process or thread is carrying it out
            action, risk = store.record_action(row)
            urgency, approval_id, undoing = store.record_urgency(row), row.approval_id, row.state == "undoing"
        checked = undo_action(action) if undoing else action
        try:
            already = self._actions.is_done(checked)
        except (CannotApply, ExecutionRefused) as exc:
            with carrier.sessions.write() as session:
                row = session.get_one(ActionRecord, record_id)
                if undoing:
                    finish(row, ActionState.DONE, f"Could not be undone: {exc}", now)
                else:
                    finish(row, ActionState.FAILED, f"Not run: {exc}", now)
                    report.failed += 1
            return
        except (ConnectorFailure, Cancelled) as exc:
            with carrier.sessions.write() as session:  # cannot tell now; look again at the next pass
                row = session.get_one(ActionRecord, record_id)
                transient = isinstance(exc, ConnectorFailure) and not exc.failure.permanent
                if transient and not carrier.stopping.is_set() and not undoing:
                    row.attempts += 1
                    if row.attempts >= MAX_ATTEMPTS:
                        finish(row, ActionState.FAILED, f"Gave up after {row.attempts} tries: {exc}", now)
                        report.failed += 1
                        return
                store.release(row)
            return
        report.resolved += 1
        if undoing:
            carrier.settle_undo(record_id, risk, undone=already, now=now)
            return
        with carrier.sessions.write() as session:
            row = session.get_one(ActionRecord, record_id)
            if already:
                finish(row, ActionState.DONE, "Found already done at Google after an interruption; not repeated", now)
                report.executed += 1
                return
            grant = approving.regrant(session, carrier.user_id, approval_id) if approval_id else None
            if grant is None:
                logged = carrier.rejudge(session, row, action, risk, urgency, now, report)
            else:
                logged = carrier.decide(session, action, risk, now)
                if not logged.decision.allowed:
                    finish(row, ActionState.REFUSED, logged.decision.message, now)
                    report.denied += 1
                    logged = None
        if logged is not None:
            carrier.execute(record_id, action, logged, grant, report)
