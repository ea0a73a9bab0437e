"""The one function every action passes before anything runs.

Checks run in a fixed order. Each can only make the outcome stricter: a deny is final, an
approval stays an approval, a confirmation level never drops. The kill switch (operator switch
and the person's pause) runs last, so it can only turn a would-be auto-execution into an
approval; it can never turn a deny into an approval or lower a confirmation.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import NamedTuple

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

# The highest overall risk each tier may auto-execute; None: every action needs approval.
_TIER_LIMIT: dict[TrustTier, RiskTier | None] = {
    TrustTier.OBSERVER: None,
    TrustTier.SUGGEST: None,
    TrustTier.LOW_AUTONOMY: RiskTier.LOW,
    TrustTier.MODERATE_AUTONOMY: RiskTier.MODERATE,
    TrustTier.HIGH_AUTONOMY: RiskTier.HIGH,
}
_TIERS: dict[str, TrustTier] = {tier.value: tier for tier in TrustTier}
_LEVELS = (Confirmation.NONE, Confirmation.SINGLE, Confirmation.DUAL)


class Case(NamedTuple):
    """What every check looks at."""

    action: ProposedAction
    settings: PolicySettings
    tier: TrustTier
    risk: RiskAssessment
    now: datetime
    operator_paused: bool


class Ask(NamedTuple):
    """A check's wish that the person be asked: approval level (1 single, 2 dual) and its reason."""

    level: int
    code: str
    message: str
    by: Check


Verdict = Decision | Ask | None  # a final deny, a wish to ask, or nothing to say
CheckFn = Callable[[Case, int], Verdict]  # given the case and the strictest level asked so far

_AUTO = Ask(0, "auto_execute", "Within what you allow your twin to do on its own", Check.DEFAULT)


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


def tier_limit(case: Case, level: int) -> Verdict:
    """Lower tiers ask before everything; the others ask above the risk they handle alone."""
    limit = _TIER_LIMIT[case.tier]
    if limit is None:
        return Ask(1, "tier_requires_approval", f"At '{case.tier.label}' your twin asks before acting", Check.TIER)
    if case.risk.overall > limit:
        return Ask(1, "risk_above_tier",
                   f"{case.risk.overall.label.capitalize()} risk is above what '{case.tier.label}' handles alone",
                   Check.TIER)
    return None


def injection_guard(case: Case, level: int) -> Verdict:
    """Drastic kinds and text that reads like instructions need the person, once or twice."""
    concern = guard(case.action)
    if concern is None:
        return None
    return Ask(concern[0].rank, concern[1], concern[2], Check.INJECTION)


def autonomy_settings(case: Case, level: int) -> Verdict:
    """The person's blocked and allowed senders' domains, and 'ask before anything irreversible'."""
    settings, action = case.settings, case.action
    if settings.blocked_domains and _domain_listed(action.domain, settings.blocked_domains):
        return _deny("blocked_domain", f"You blocked {action.domain}", Check.SETTINGS)
    if settings.allowed_domains and not _domain_listed(action.domain, settings.allowed_domains):
        return _deny("domain_not_allowed", f"{action.domain or 'This sender'} is not on your allowed list",
                     Check.SETTINGS)
    if settings.require_approval_for_irreversible and not action.reversible:
        return Ask(1, "irreversible_needs_approval", "You asked to approve anything that cannot be undone",
                   Check.SETTINGS)
    return None


def quiet_hours(case: Case, level: int) -> Verdict:
    """An approval within the person's quiet hours, never a skip of the deny rules after it."""
    settings = case.settings
    if level < 1 and settings.quiet_hours is not None and in_quiet_hours(case.now, settings.quiet_hours,
                                                                         settings.zone):
        return Ask(1, "quiet_hours", "It is within your quiet hours; this waits for you", Check.QUIET_HOURS)
    return None


def rules(case: Case, level: int) -> Verdict:
    """The fixed built-in rules, every one; then the person's own rules and the default, first match."""
    asked: Ask | None = None
    for rule in FIXED_RULES:
        if rule.matches(case.action, case.risk):
            if rule.effect is Effect.DENY:
                return _deny(rule.code, rule.name, Check.RULES)
            asked = asked or Ask(1, rule.code, rule.name, Check.RULES)
    for rule in case.settings.ordered_rules:
        if rule.matches(case.action, case.risk):
            if rule.effect is Effect.DENY:
                return _deny(rule.code, rule.name or "One of your rules blocks this", Check.RULES)
            if rule.effect is Effect.REQUIRE_APPROVAL:
                asked = asked or Ask(1, rule.code, rule.name or "One of your rules asks you first", Check.RULES)
            break
    return asked


def kill_switch(case: Case, level: int) -> Verdict:
    """The operator switch and the person's pause, last: they only turn a would-be auto-execution
    into an approval."""
    if level > 0:
        return None
    if case.operator_paused:
        return Ask(1, "operator_paused", "Auto-execution is turned off by your administrator; this waits for you",
                   Check.KILL_SWITCH)
    if case.settings.paused:
        reason = f" ({case.settings.paused_reason})" if case.settings.paused_reason else ""
        return Ask(1, "user_paused", "You paused your twin; this waits for you" + reason, Check.KILL_SWITCH)
    return None


CHECKS: tuple[CheckFn, ...] = (tier_limit, injection_guard, autonomy_settings, quiet_hours, rules, kill_switch)
"""In this order. A deny ends the evaluation; an approval replaces the outcome so far only when it is
stricter, so the first check to ask at a level gives the reason, and nothing lowers a level."""


class PolicyEvaluator:
    """Pure and thread-safe: holds only the operator switch, given when it is built."""

    def __init__(self, *, operator_paused: bool) -> None:
        self._operator_paused = bool(operator_paused)

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
        tier = _TIERS.get(trust_tier)
        if tier is None:
            return _deny("unknown_trust_tier", f"Unknown trust tier {trust_tier!r}; nothing runs", Check.TIER)
        case = Case(action, settings, tier, risk, now, self._operator_paused)
        outcome = _AUTO
        for check in CHECKS:
            verdict = check(case, outcome.level)
            if verdict is None:
                continue
            if isinstance(verdict, Decision):
                return verdict
            if verdict.level > outcome.level:
                outcome = verdict
        return Decision(True, outcome.level > 0, _LEVELS[outcome.level], outcome.code, outcome.message, outcome.by)
