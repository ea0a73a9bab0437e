"""What the person can ask of the app from its windows, as plain calls on the composition's
parts. The Qt layer calls these; tests call the very same ones."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from skytwin_desktop.composition import AppContext
from skytwin_desktop.settings_spec import apply_setting, read_settings
from skytwin_desktop.status import StatusReport, read_status
from skytwin_desktop.store import policy, users
from skytwin_desktop.store.approvals import expire_due
from skytwin_desktop.store.approvals import pending as pending_approvals
from skytwin_desktop.store.erase import erase_person
from skytwin_desktop.store.models import DecisionLogEntry
from skytwin_desktop.twin import approvals


@dataclass(frozen=True)
class PendingItem:
    """An approval as the approvals window lists it (plain data: no Qt on the CLI's path)."""

    id: int
    kind: str
    target: str
    reason: str
    decided_by: str
    confirmation: str
    expires_at: datetime


@dataclass(frozen=True)
class ActivityItem:
    at: datetime
    kind: str
    target: str
    outcome: str
    why: str


class Intents:
    def __init__(self, context: AppContext) -> None:
        self.context = context

    def report(self) -> StatusReport:
        context = self.context
        with context.session() as session:
            return read_status(session, context.user_id, operator_paused=context.config.auto_execute_disabled,
                               now=context.clock())

    def set_pause(self, paused: bool, reason: str | None) -> None:
        """Effective for the very next decision: the settings revision moves with it."""
        with self.context.session() as session:
            if paused:
                users.pause(session, self.context.user_id, now=self.context.clock(), reason=reason)
            else:
                users.resume(session, self.context.user_id)

    def settings(self) -> dict[str, Any]:
        with self.context.session() as session:
            return read_settings(session, self.context.user_id)

    def save_setting(self, key: str, value: Any) -> None:
        with self.context.session() as session:
            apply_setting(session, self.context.user_id, key, value, now=self.context.clock())

    def rules(self) -> list[dict[str, Any]]:
        with self.context.session() as session:
            return [{"id": row.id, "name": row.name, "priority": row.priority, "effect": row.effect,
                     "conditions": list(row.conditions)} for row in policy.list_rules(session, self.context.user_id)]

    def save_rule(self, rule_id: int | None, name: str, conditions: list[dict[str, Any]], effect: str) -> None:
        with self.context.session() as session:
            if rule_id is None:
                policy.add_rule(session, self.context.user_id, conditions=conditions, effect=effect, name=name)
            else:
                policy.update_rule(session, self.context.user_id, rule_id, conditions=conditions, effect=effect,
                                   name=name)

    def delete_rule(self, rule_id: int) -> None:
        with self.context.session() as session:
            policy.delete_rule(session, self.context.user_id, rule_id)

    def move_rule(self, rule_id: int, steps: int) -> None:
        with self.context.session() as session:
            policy.move_rule(session, self.context.user_id, rule_id, steps)

    # --- approvals and activity (the approvals window's source) ----------------------------
    def pending(self) -> list[PendingItem]:
        with self.context.session() as session:
            expire_due(session, self.context.user_id, self.context.clock())
            return [PendingItem(row.id, row.action_kind, row.target, row.reason, row.decided_by, row.confirmation,
                                row.expires_at)
                    for row in pending_approvals(session, self.context.user_id, self.context.clock())]

    def activity(self, limit: int = 100) -> list[ActivityItem]:
        with self.context.session() as session:
            rows = session.scalars(select(DecisionLogEntry).where(DecisionLogEntry.user_id == self.context.user_id)
                                   .order_by(DecisionLogEntry.id.desc()).limit(limit))
            return [ActivityItem(row.decided_at, row.action_kind, row.target,
                                 "refused" if not row.allowed else "asked you" if row.requires_approval
                                 else "allowed to run by itself", f"{row.message} (decided by: {row.decided_by})")
                    for row in rows]

    def approve(self, approval_id: int) -> str:
        with self.context.session() as session:
            answer = approvals.approve(session, self.context.gate, self.context.user_id, approval_id,
                                       now=self.context.clock())
        return answer.message

    def reject(self, approval_id: int, note: str | None) -> str:
        with self.context.session() as session:
            return approvals.reject(session, self.context.user_id, approval_id, now=self.context.clock(),
                                    note=note).message

    def delete_all(self) -> dict[str, int]:
        """Network (revoking) and database work: call it off the GUI thread."""
        self.context.connectors.forget_all()
        with self.context.session() as session:
            return erase_person(session, self.context.user_id)
