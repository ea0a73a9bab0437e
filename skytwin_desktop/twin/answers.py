"""The person's answers: approving (and then carrying the action out), rejecting, and undoing an
action the twin carried out. Each runs network calls: never on the GUI thread."""

from __future__ import annotations

from contextlib import ExitStack

from skytwin_desktop.connectors.failures import Cancelled, ConnectorFailure
from skytwin_desktop.connectors.writers import CannotApply
from skytwin_desktop.domain import ActionState, Urgency
from skytwin_desktop.errors import InputError
from skytwin_desktop.outcomes import Answer, BatchReport
from skytwin_desktop.store import actions as store
from skytwin_desktop.store.approvals import stored_action
from skytwin_desktop.store.models import ActionRecord, Approval
from skytwin_desktop.twin import approving
from skytwin_desktop.twin.carrying import Carrier, finish
from skytwin_desktop.twin.executor import ExecutionRefused
from skytwin_desktop.twin.steps import UNDOABLE, undo_action


class Answers:
    def __init__(self, carrier: Carrier) -> None:
        self._carrier = carrier

    def approve(self, approval_id: int) -> Answer:
        """Approve and, once fully confirmed, carry the action out."""
        carrier = self._carrier
        now = carrier.clock()
        with ExitStack() as holding:
            with carrier.sessions.write() as session:
                answer = approving.approve(session, carrier.gate, carrier.user_id, approval_id, now=now)
                if answer.outcome is not approving.Outcome.APPROVED:
                    return Answer(answer.outcome is approving.Outcome.NEEDS_SECOND_CONFIRMATION, answer.message)
                assert answer.grant is not None and answer.recheck is not None
                row = session.get_one(Approval, approval_id)
                action, risk = stored_action(row)
                record = store.start_record(session, carrier.user_id, action, risk, now=now,
                                            urgency=Urgency(row.urgency), decision_id=answer.recheck.log_id,
                                            approval_id=approval_id)
                record_id = record.id
                holding.enter_context(carrier.holds.exclusively(record_id))  # before the commit: no pass beside
            state, detail = carrier.execute(record_id, action, answer.recheck, answer.grant, BatchReport())
        if state is ActionState.DONE:
            return Answer(True, f"Approved. {detail}".strip(), record_id if action.kind in UNDOABLE else None)
        if state is ActionState.STARTED:
            return Answer(False, f"Approved; not carried out yet ({detail}).")
        return Answer(False, f"Approved, but it could not be carried out: {detail}")

    def reject(self, approval_id: int, note: str | None = None) -> Answer:
        carrier = self._carrier
        with carrier.sessions.write() as session:
            answer = approving.reject(session, carrier.user_id, approval_id, now=carrier.clock(), note=note)
        return Answer(True, answer.message)

    def undo(self, record_id: int) -> Answer:
        """Reverse an action the twin carried out, and count it as the person's feedback. The record
        is claimed first (`undoing`), so two requests never reverse it twice."""
        carrier = self._carrier
        now = carrier.clock()
        with carrier.holds.exclusively(record_id) as free:
            if not free:
                raise InputError(f"Action #{record_id} is being worked on right now; try again in a moment.")
            with carrier.sessions.write() as session:
                row = store.get_record(session, carrier.user_id, record_id)
                if row is None:
                    raise InputError(f"There is no action #{record_id}.")
                if row.action_kind not in UNDOABLE:
                    raise InputError(f"A {row.action_kind.replace('_', ' ')} cannot be undone.")
                claimed = store.claim(session, carrier.user_id, record_id, states=(ActionState.DONE,), now=now)
                if claimed is None:
                    state = "already undone" if row.state == ActionState.UNDONE.value else (
                        "being undone" if row.state == ActionState.UNDOING.value else f"{row.state}, not done")
                    raise InputError(f"Action #{record_id} is {state}; there is nothing to undo.")
                action, risk = store.record_action(claimed)
                reverse = undo_action(action)
                answer = approving.request_by_person(session, carrier.gate, carrier.user_id, reverse, risk, now=now)
                if answer.outcome is not approving.Outcome.APPROVED:
                    store.release(claimed)
                    raise InputError(f"Not undone. {answer.message}")
                claimed.state = ActionState.UNDOING.value
            assert answer.recheck is not None
            try:
                detail = str(carrier.executor.execute(reverse, answer.recheck, answer.grant))
            except (CannotApply, ConnectorFailure, Cancelled, ExecutionRefused) as exc:
                with carrier.sessions.write() as session:
                    finish(session.get_one(ActionRecord, record_id), ActionState.DONE, f"Undo failed: {exc}", now)
                raise InputError(f"Could not undo: {exc}.") from None
            carrier.settle_undo(record_id, risk, undone=True, now=now, detail=detail)
        return Answer(True, f"Undone: {detail}.")
