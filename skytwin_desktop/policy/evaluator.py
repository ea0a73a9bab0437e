"""The one function every action passes before anything runs.

Checks run in a fixed order. Each can only make the outcome stricter: a deny is final, an
approval stays an approval, a confirmation level never drops. The kill switch (operator switch
and the person's pause) runs last, so it can only turn a would-be auto-execution into an
approval; it can never turn a deny into an approval or lower a confirmation.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from skytwin_desktop.domain import Confirmation, TrustTier
from skytwin_desktop.policy.injection import guard
from skytwin_desktop.policy.model import (
    Ask,
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


Verdict = Decision | Ask | None
"""A final deny (a `Decision`), a wish to ask, or nothing to say."""
CheckFn = Callable[[ProposedAction, PolicySettings, TrustTier, RiskAssessment, datetime, bool, int], Verdict]
"""A check reads the action, the person's settings, the trust tier, the risk, the time, whether the
operator switch is on, and the strictest approval level asked so far."""

_AUTO: Ask = (0, "auto_execute", "Within what you allow your twin to do on its own", Check.DEFAULT)


_decision = tuple.__new__  # a Decision without NamedTuple's Python-level __new__: this path is hot


def _deny(code: str, message: str, by: Check) -> Decision:
    return _decision(Decision, (False, False, Confirmation.NONE, code, message, by))


def _domain_listed(domain: str | None, listed: frozenset[str], suffixes: tuple[str, ...]) -> bool:
    """A listed domain covers its subdomains: blocking example.com blocks news.example.com."""
    if domain is None:
        return False
    domain = domain.lower()
    return domain in listed or domain.endswith(suffixes)


_ASKS_FIRST: dict[TrustTier, Ask] = {
    tier: (1, "tier_requires_approval", f"At '{tier.label}' your twin asks before acting", Check.TIER)
    for tier, limit in _TIER_LIMIT.items() if limit is None
}
_ABOVE_TIER: dict[tuple[RiskTier, TrustTier], Ask] = {
    (risk, tier): (1, "risk_above_tier", f"{risk.label.capitalize()} risk is above what '{tier.label}' handles alone",
                   Check.TIER)
    for risk in RiskTier for tier in TrustTier
}
"""The tier's words, written once for every tier and risk: this path is hot."""


def tier_limit(action: ProposedAction, settings: PolicySettings, tier: TrustTier, risk: RiskAssessment,
               now: datetime, operator_paused: bool, level: int) -> Verdict:
    """Lower tiers ask before everything; the others ask above the risk they handle alone."""
    limit = _TIER_LIMIT[tier]
    if limit is None:
        return _ASKS_FIRST[tier]
    if risk.overall > limit:
        return _ABOVE_TIER[risk.overall, tier]
    return None


def injection_guard(action: ProposedAction, settings: PolicySettings, tier: TrustTier, risk: RiskAssessment,
                    now: datetime, operator_paused: bool, level: int) -> Verdict:
    """Drastic kinds and text that reads like instructions need the person, once or twice."""
    return guard(action)


def autonomy_settings(action: ProposedAction, settings: PolicySettings, tier: TrustTier, risk: RiskAssessment,
                      now: datetime, operator_paused: bool, level: int) -> Verdict:
    """The person's blocked and allowed senders' domains, and 'ask before anything irreversible'."""
    if settings.blocked_domains and _domain_listed(action.domain, settings.blocked_domains, settings.blocked_suffixes):
        return _deny("blocked_domain", f"You blocked {action.domain}", Check.SETTINGS)
    if settings.allowed_domains and not _domain_listed(action.domain, settings.allowed_domains,
                                                       settings.allowed_suffixes):
        return _deny("domain_not_allowed", f"{action.domain or 'This sender'} is not on your allowed list",
                     Check.SETTINGS)
    if settings.require_approval_for_irreversible and not action.reversible:
        return 1, "irreversible_needs_approval", "You asked to approve anything that cannot be undone", Check.SETTINGS
    return None


def quiet_hours(action: ProposedAction, settings: PolicySettings, tier: TrustTier, risk: RiskAssessment,
                now: datetime, operator_paused: bool, level: int) -> Verdict:
    """An approval within the person's quiet hours, never a skip of the deny rules after it."""
    if level < 1 and settings.quiet_hours is not None and in_quiet_hours(now, settings.quiet_hours, settings.zone):
        return 1, "quiet_hours", "It is within your quiet hours; this waits for you", Check.QUIET_HOURS
    return None


def rules(action: ProposedAction, settings: PolicySettings, tier: TrustTier, risk: RiskAssessment,
          now: datetime, operator_paused: bool, level: int) -> Verdict:
    """The fixed built-in rules, every one; then the person's own rules and the default, first match."""
    asked: Ask | None = None
    for rule in FIXED_RULES:
        if rule.matches(action, risk):
            if rule.effect is Effect.DENY:
                return _deny(rule.code, rule.name, Check.RULES)
            asked = asked or (1, rule.code, rule.name, Check.RULES)
    for rule in settings.ordered_rules:
        if rule.matches(action, risk):
            if rule.effect is Effect.DENY:
                return _deny(rule.code, rule.name or "One of your rules blocks this", Check.RULES)
            if rule.effect is Effect.REQUIRE_APPROVAL:
                asked = asked or (1, rule.code, rule.name or "One of your rules asks you first", Check.RULES)
            break
    return asked


def kill_switch(action: ProposedAction, settings: PolicySettings, tier: TrustTier, risk: RiskAssessment,
                now: datetime, operator_paused: bool, level: int) -> Verdict:
    """The operator switch and the person's pause, last: they only turn a would-be auto-execution
    into an approval."""
    if level > 0:
        return None
    if operator_paused:
        return (1, "operator_paused", "Auto-execution is turned off by your administrator; this waits for you",
                Check.KILL_SWITCH)
    if settings.paused:
        reason = f" ({settings.paused_reason})" if settings.paused_reason else ""
        return 1, "user_paused", "You paused your twin; this waits for you" + reason, Check.KILL_SWITCH
    return None


DENIES = 3
"""For the table below: a check that may deny (above any approval level)."""

CHECKS: tuple[tuple[CheckFn, int], ...] = (
    (tier_limit, 1),
    (injection_guard, 2),
    (autonomy_settings, DENIES),
    (quiet_hours, 1),
    (rules, DENIES),
    (kill_switch, 1),
)
"""The checks in their order, each with the most it can do (an approval level, or DENIES). A deny
ends the evaluation; an approval replaces the outcome so far only when it is stricter, so the first
check to ask at a level gives the reason and nothing lowers a level. A check that could only ask
for what is already asked is not run."""


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
        operator_paused = self._operator_paused
        outcome, level = _AUTO, 0
        for check, most in CHECKS:
            if most <= level:
                continue
            verdict = check(action, settings, tier, risk, now, operator_paused, level)
            if verdict is None:
                continue
            if isinstance(verdict, Decision):
                return verdict
            if verdict[0] > level:
                outcome, level = verdict, verdict[0]
        _, code, message, by = outcome
        return _decision(Decision, (True, level > 0, _LEVELS[level], code, message, by))
