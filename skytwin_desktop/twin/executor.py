"""The executor funnel: the only way an action reaches a connector's write methods.

Connector methods that change anything at Google are marked `@connector_write`; they refuse to
run unless the funnel is executing an action, and the funnel executes only a logged decision
that allows auto-execution, or one the person approved.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from skytwin_desktop.guard import ExecutionRefused, connector_write, executing
from skytwin_desktop.policy import ProposedAction
from skytwin_desktop.twin.gate import LoggedDecision

__all__ = ["ApprovalGrant", "ExecutionRefused", "Executor", "connector_write", "issue_grant"]
_GRANTED = object()


@dataclass(frozen=True, slots=True)
class ApprovalGrant:
    """Proof that the person approved this action. Only the approvals queue makes these."""

    approval_id: int
    action_key: str
    _issuer: object = field(repr=False, compare=False)

    def __post_init__(self) -> None:
        if self._issuer is not _GRANTED:
            raise TypeError("ApprovalGrant comes only from the approvals queue")


def issue_grant(approval_id: int, action_key: str) -> ApprovalGrant:
    """For the approvals queue, after it has marked the approval approved."""
    return ApprovalGrant(approval_id, action_key, _GRANTED)


Handler = Callable[[ProposedAction], Any]


class Executor:
    """Runs an action by its kind's handler, only when the decision or an approval allows it."""

    def __init__(self, handlers: Mapping[str, Handler]) -> None:
        self._handlers = dict(handlers)

    def execute(self, action: ProposedAction, logged: LoggedDecision, grant: ApprovalGrant | None = None) -> Any:
        if not isinstance(logged, LoggedDecision) or logged.action_key != action.key:
            raise ExecutionRefused("the decision is not the logged decision for this action")
        decision = logged.decision
        if not decision.allowed:
            raise ExecutionRefused(f"denied: {decision.message}")
        if decision.requires_approval:
            if grant is None:
                raise ExecutionRefused(f"needs the person's approval: {decision.message}")
            if not isinstance(grant, ApprovalGrant) or grant.action_key != action.key:
                raise ExecutionRefused("the approval is for another action")
        handler = self._handlers.get(action.kind)
        if handler is None:
            raise ExecutionRefused(f"no way to carry out {action.kind!r}")
        with executing(action.key or action.kind):
            return handler(action)
