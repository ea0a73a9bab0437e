"""Reading and writing what the evaluator needs: settings, the person's rules, the trust tier,
the decision log and feedback."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from skytwin_desktop.domain import TrustTier
from skytwin_desktop.errors import InputError
from skytwin_desktop.policy.model import Decision, ProposedAction, RiskTier
from skytwin_desktop.policy.quiet_hours import parse_hhmm
from skytwin_desktop.policy.rules import Rule, RuleError
from skytwin_desktop.policy.settings import PolicySettings
from skytwin_desktop.policy.trust import (
    Feedback,
    FeedbackEvent,
    TierChange,
    review_tier,
)
from skytwin_desktop.store.models import (
    AutonomySettings,
    DecisionLogEntry,
    FeedbackEventRow,
    PolicyRuleRow,
    TierChangeRow,
    User,
    table,
)
from skytwin_desktop.store.users import load_settings

log = logging.getLogger(__name__)


def load_policy_settings(session: Session, user_id: int) -> PolicySettings:
    """Build the evaluator's view of the person's settings (once per change, not per decision)."""
    user = session.get_one(User, user_id)
    stored = load_settings(session, user_id)
    quiet = None
    if stored.quiet_hours_start and stored.quiet_hours_end:
        quiet = (parse_hhmm(stored.quiet_hours_start), parse_hhmm(stored.quiet_hours_end))
    return PolicySettings(
        paused=stored.paused,
        paused_reason=stored.paused_reason,
        timezone=user.timezone,
        quiet_hours=quiet,
        allowed_domains=frozenset(stored.allowed_domains or ()),
        blocked_domains=frozenset(stored.blocked_domains or ()),
        require_approval_for_irreversible=stored.require_approval_for_irreversible,
        rules=tuple(rule_from_row(row) for row in list_rules(session, user_id) if row.enabled),
    )


def rule_from_row(row: PolicyRuleRow) -> Rule:
    return Rule.build(list(row.conditions), row.effect, priority=row.priority, name=row.name)


def list_rules(session: Session, user_id: int) -> list[PolicyRuleRow]:
    return list(session.scalars(
        select(PolicyRuleRow).where(PolicyRuleRow.user_id == user_id).order_by(PolicyRuleRow.priority, PolicyRuleRow.id)
    ))


def add_rule(session: Session, user_id: int, *, conditions: list[dict[str, Any]], effect: str,
             name: str = "", priority: int | None = None) -> PolicyRuleRow:
    """Validate (a rule that cannot be evaluated is refused here, never at decision time) and save."""
    if priority is None:
        highest = session.scalar(select(func.max(PolicyRuleRow.priority)).where(PolicyRuleRow.user_id == user_id))
        priority = (highest or 0) + 10
    if not 1 <= priority < 1000:
        raise InputError("A rule's priority must be from 1 to 999 (built-in rules use 0 and 1000).")
    try:
        rule = Rule.build(conditions, effect, priority=priority, name=name)
    except (RuleError, KeyError, TypeError) as exc:
        raise InputError(f"Rule refused: {exc}") from None
    row = PolicyRuleRow(user_id=user_id, name=name, priority=priority,
                        conditions=[c.to_json() for c in rule.conditions], effect=rule.effect.value)
    session.add(row)
    session.flush()
    return row


def append_decision(session: Session, user_id: int, action: ProposedAction, decision: Decision) -> int:
    """Append one decision to the log (the database refuses updates); returns its id."""
    entry = DecisionLogEntry(
        user_id=user_id,
        action_key=action.key or None,
        action_kind=action.kind,
        target=action.target[:500],
        allowed=decision.allowed,
        requires_approval=decision.requires_approval,
        confirmation=decision.confirmation.value,
        reason_code=decision.reason_code,
        message=decision.message,
        decided_by=decision.decided_by.value,
    )
    session.add(entry)
    session.flush()
    return entry.id


def append_decisions(session: Session, user_id: int, entries: list[tuple[ProposedAction, Decision]]) -> list[int]:
    """Append many decisions in one statement (a poll's worth); their ids, in order."""
    if not entries:
        return []
    rows = [{"user_id": user_id, "action_key": action.key or None, "action_kind": action.kind,
             "target": action.target[:500], "allowed": decision.allowed,
             "requires_approval": decision.requires_approval, "confirmation": decision.confirmation.value,
             "reason_code": decision.reason_code, "message": decision.message,
             "decided_by": decision.decided_by.value} for action, decision in entries]
    decisions = table(DecisionLogEntry)  # Core, not the ORM's bulk layer: a third of the time
    statement = insert(decisions).returning(decisions.c.id, sort_by_parameter_order=True)
    return list(session.connection().scalars(statement, rows))


def current_tier(session: Session, user_id: int) -> str:
    return session.get_one(User, user_id).trust_tier


def set_tier(session: Session, user_id: int, tier: TrustTier | str, *, reason: str, by_person: bool,
             now: datetime) -> TierChange | None:
    """Change the tier and log why; None when it already was that tier."""
    try:
        new = TrustTier(tier)
    except ValueError:
        raise InputError(f"Unknown trust tier {tier!r}; expected one of {', '.join(TrustTier)}.") from None
    user = session.get_one(User, user_id)
    old = TrustTier(user.trust_tier)
    if user.trust_tier == new.value:
        return None
    user.trust_tier = new.value
    session.add(TierChangeRow(user_id=user_id, at=now, old_tier=old.value, new_tier=new.value, reason=reason,
                              by_person=by_person))
    session.flush()
    log.info("Trust tier %s -> %s (%s; %s)", old.value, new.value, reason,
             "by the person" if by_person else "automatic")
    return TierChange(old, new, reason)


def record_feedback(session: Session, user_id: int, kind: Feedback, *, action_kind: str, at: datetime,
                    risk: RiskTier = RiskTier.LOW, approval_id: int | None = None) -> TierChange | None:
    """Store the person's feedback, then let the record since the last tier change move the tier."""
    session.add(FeedbackEventRow(user_id=user_id, at=at, kind=Feedback(kind).value, action_kind=action_kind,
                                 risk=risk.label, approval_id=approval_id))
    session.flush()
    since = session.scalar(select(func.max(TierChangeRow.at)).where(TierChangeRow.user_id == user_id))
    query = select(FeedbackEventRow).where(FeedbackEventRow.user_id == user_id)
    if since is not None:
        query = query.where(FeedbackEventRow.at > since)
    history = [FeedbackEvent(row.at, Feedback(row.kind), RiskTier.parse(row.risk))
               for row in session.scalars(query.order_by(FeedbackEventRow.at, FeedbackEventRow.id))]
    change = review_tier(TrustTier(current_tier(session, user_id)), history, at)
    if change is None:
        return None
    return set_tier(session, user_id, change.new, reason=change.reason, by_person=False, now=at)


def settings_revision(session: Session, user_id: int) -> int:
    """Changes whenever anything `load_policy_settings` reads changes (kept by database triggers)."""
    return session.scalar(select(AutonomySettings.revision).where(AutonomySettings.user_id == user_id)) or 0


class SettingsCache:
    """The person's PolicySettings, reloaded only when the database says they changed.

    One indexed read per check, so a pause made anywhere (the tray, or the CLI in another
    process) applies to the very next decision without reloading everything every time.
    """

    def __init__(self, user_id: int) -> None:
        self.user_id = user_id
        self._revision: int | None = None
        self._settings: PolicySettings | None = None

    def current(self, session: Session) -> PolicySettings:
        revision = settings_revision(session, self.user_id)
        if self._settings is None or revision != self._revision:
            self._settings = load_policy_settings(session, self.user_id)
            self._revision = revision
        return self._settings


def _rule_row(session: Session, user_id: int, rule_id: int) -> PolicyRuleRow:
    row = session.get(PolicyRuleRow, rule_id)
    if row is None or row.user_id != user_id:
        raise InputError(f"There is no rule #{rule_id}.")
    return row


def update_rule(session: Session, user_id: int, rule_id: int, *, conditions: list[dict[str, Any]], effect: str,
                name: str = "") -> PolicyRuleRow:
    row = _rule_row(session, user_id, rule_id)
    try:
        rule = Rule.build(conditions, effect, priority=row.priority, name=name)
    except RuleError as exc:
        raise InputError(f"Rule refused: {exc}") from None
    row.name, row.effect = name, rule.effect.value
    row.conditions = [c.to_json() for c in rule.conditions]
    session.flush()
    return row


def delete_rule(session: Session, user_id: int, rule_id: int) -> None:
    session.delete(_rule_row(session, user_id, rule_id))
    session.flush()


def move_rule(session: Session, user_id: int, rule_id: int, steps: int) -> None:
    """Move a rule earlier (negative) or later in the order by renumbering priorities 10, 20, …"""
    rows = list_rules(session, user_id)
    index = next((i for i, row in enumerate(rows) if row.id == rule_id), None)
    if index is None:
        raise InputError(f"There is no rule #{rule_id}.")
    target = max(0, min(len(rows) - 1, index + steps))
    rows.insert(target, rows.pop(index))
    for position, row in enumerate(rows, start=1):
        row.priority = position * 10
    session.flush()
