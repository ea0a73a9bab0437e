"""The one function every action passes before anything runs.

Checks run in a fixed order. Each can only make the outcome stricter: a deny is final, an
approval stays an approval, a confirmation level never drops. The kill switch (operator switch
and the person's pause) runs last, so it can only turn a would-be auto-execution into an
approval; it can never turn a deny into an approval or lower a confirmation.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime

from skytwin_desktop.config import parse_switch
from skytwin_desktop.domain import Confirmation, TrustTier
from skytwin_desktop.policy.injection import guard
from skytwin_desktop.policy.model import (
    Check,
    Decision,
    Effect,
    ProposedAction,
    RiskAssessment,
    RiskTier,
)
from skytwin_desktop.policy.quiet_hours import in_quiet_hours
from skytwin_desktop.policy.rules import FIXED_RULES
from skytwin_desktop.policy.settings import PolicySettings

OPERATOR_SWITCH = "SKYTWIN_AUTO_EXECUTE_DISABLED"

# The highest overall risk each tier may auto-execute; None: every action needs approval.
_TIER_LIMIT: dict[str, RiskTier | None] = {
    TrustTier.OBSERVER: None,
    TrustTier.SUGGEST: None,
    TrustTier.LOW_AUTONOMY: RiskTier.LOW,
    TrustTier.MODERATE_AUTONOMY: RiskTier.MODERATE,
    TrustTier.HIGH_AUTONOMY: RiskTier.HIGH,
}
_LABEL = {tier: tier.label for tier in TrustTier}
_UNKNOWN = object()
_LEVELS = (Confirmation.NONE, Confirmation.SINGLE, Confirmation.DUAL)
_RANK = {level: rank for rank, level in enumerate(_LEVELS)}


def _deny(code: str, message: str, by: Check) -> Decision:
    return Decision(False, False, Confirmation.NONE, code, message, by)


def _domain_listed(domain: str | None, listed: frozenset[str]) -> bool:
    """A listed domain covers its subdomains: blocking example.com blocks news.example.com."""
    if domain is None:
        return False
    domain = domain.lower()
    if domain in listed:
        return True
    return any(domain.endswith("." + entry) for entry in listed)


class PolicyEvaluator:
    """Pure and thread-safe: holds only the operator switch, read once when it is built."""

    def __init__(self, *, operator_paused: bool | None = None, environ: Mapping[str, str] | None = None) -> None:
        if operator_paused is None:
            environ = os.environ if environ is None else environ
            operator_paused = parse_switch(OPERATOR_SWITCH, environ.get(OPERATOR_SWITCH))
        self._operator_paused = bool(operator_paused)

    def is_globally_paused(self) -> bool:
        """True while the operator switch stops all auto-execution."""
        return self._operator_paused

    def evaluate(
        self,
        action: ProposedAction,
        settings: PolicySettings,
        trust_tier: TrustTier | str,
        risk: RiskAssessment,
        now: datetime,
    ) -> Decision:
        if not isinstance(settings, PolicySettings):
            raise TypeError("evaluate() needs the person's PolicySettings; the pause lives there")
        if now.tzinfo is None:
            raise ValueError("evaluate() needs an aware 'now'; quiet hours depend on it")

        # The strictest outcome so far: approval level (0 none, 1 single, 2 dual) and its reason.
        level = 0
        code, message, by = "auto_execute", "Within what you allow your twin to do on its own", Check.DEFAULT

        # 1. Trust tier
        limit = _TIER_LIMIT.get(trust_tier, _UNKNOWN)
        if limit is _UNKNOWN:
            return _deny("unknown_trust_tier", f"Unknown trust tier {trust_tier!r}; nothing runs", Check.TIER)
        if limit is None:
            level, code, by = 1, "tier_requires_approval", Check.TIER
            message = f"At '{_LABEL[trust_tier]}' your twin asks before acting"
        elif risk.overall > limit:
            level, code, by = 1, "risk_above_tier", Check.TIER
            message = f"{risk.overall.label.capitalize()} risk is above what '{_LABEL[trust_tier]}' handles alone"

        # 2. Injection guard
        concern = guard(action)
        if concern is not None:
            needed = _RANK[concern[0]]
            if needed > level:
                level, code, message, by = needed, concern[1], concern[2], Check.INJECTION

        # 3. Autonomy settings
        if settings.blocked_domains and _domain_listed(action.domain, settings.blocked_domains):
            return _deny("blocked_domain", f"You blocked {action.domain}", Check.SETTINGS)
        if settings.allowed_domains and not _domain_listed(action.domain, settings.allowed_domains):
            return _deny("domain_not_allowed", f"{action.domain or 'This sender'} is not on your allowed list",
                         Check.SETTINGS)
        if settings.require_approval_for_irreversible and not action.reversible and level < 1:
            level, code, by = 1, "irreversible_needs_approval", Check.SETTINGS
            message = "You asked to approve anything that cannot be undone"

        # 4. Quiet hours (an approval, never a skip of the deny rules below)
        if level < 1 and settings.quiet_hours is not None and in_quiet_hours(now, settings.quiet_hours, settings.zone):
            level, code, by = 1, "quiet_hours", Check.QUIET_HOURS
            message = "It is within your quiet hours; this waits for you"

        # 5. Policy rules: fixed built-ins always; then the person's rules and the default, first match
        for rule in FIXED_RULES:
            if rule.matches(action, risk):
                if rule.effect is Effect.DENY:
                    return _deny(rule.code, rule.name, Check.RULES)
                if level < 1:
                    level, code, message, by = 1, rule.code, rule.name, Check.RULES
        for rule in settings.ordered_rules:
            if rule.matches(action, risk):
                if rule.effect is Effect.DENY:
                    return _deny(rule.code, rule.name or "One of your rules blocks this", Check.RULES)
                if rule.effect is Effect.REQUIRE_APPROVAL and level < 1:
                    level, code, message, by = 1, rule.code, rule.name or "One of your rules asks you first", Check.RULES
                break

        # 6. Kill switch, last: only a would-be auto-execution is affected, and only made stricter
        if level == 0 and (self._operator_paused or settings.paused):
            level, by = 1, Check.KILL_SWITCH
            if self._operator_paused:
                code, message = "operator_paused", "Auto-execution is turned off by your administrator; this waits for you"
            else:
                code = "user_paused"
                message = "You paused your twin; this waits for you" + (
                    f" ({settings.paused_reason})" if settings.paused_reason else "")

        # 7. Otherwise: allowed for auto-execution
        return Decision(True, level > 0, _LEVELS[level], code, message, by)
