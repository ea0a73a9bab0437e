"""What the person can ask of the app from its windows, as plain calls on the composition's
parts. The Qt layer calls these; tests call the very same ones."""

from __future__ import annotations

from typing import Any

from skytwin_desktop.composition import AppContext
from skytwin_desktop.settings_spec import apply_setting, read_settings
from skytwin_desktop.status import StatusReport, read_status
from skytwin_desktop.store import policy, users
from skytwin_desktop.store.erase import erase_person


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

    def delete_all(self) -> dict[str, int]:
        """Network (revoking) and database work: call it off the GUI thread."""
        self.context.connectors.forget_all()
        with self.context.session() as session:
            return erase_person(session, self.context.user_id)
