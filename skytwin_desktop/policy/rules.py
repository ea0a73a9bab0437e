"""Policy rules: `{field, operator, value}` conditions with an effect, checked by priority.

Built-in rules come in two groups. The fixed ones (escalations need the person; legal or
privacy sensitivity above low is denied; any spend is denied) always apply and no rule of the
person's can get ahead of them. The default one (irreversible needs approval) runs after the
person's rules, so a person can put an `allow` rule before it for a case they trust. Among the
person's rules and the default, the first match by priority decides; an `allow` only stops the
rule check, it never lowers what an earlier check asked for.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from enum import StrEnum
from typing import Any

from skytwin_desktop.policy.model import (
    RISK_DIMENSIONS,
    Effect,
    ProposedAction,
    RiskAssessment,
    RiskTier,
    normalize_domain,
)


class Operator(StrEnum):
    EQ = "eq"
    NEQ = "neq"
    GT = "gt"
    GTE = "gte"
    LT = "lt"
    LTE = "lte"
    IN = "in"
    NOT_IN = "not_in"
    CONTAINS = "contains"


class RuleError(ValueError):
    """A rule that cannot be evaluated; refused when it is written, never at decision time."""


_ACTION_FIELDS = {
    "kind": str,
    "target": str,
    "key": str,
    "domain": str,
    "provenance": str,
    "reversible": bool,
    "spend": float,
    "explanation": str,
}
_RISK_FIELDS = {"risk", *(f"risk.{name}" for name in RISK_DIMENSIONS)}
FIELDS = tuple(sorted(_ACTION_FIELDS)) + tuple(sorted(_RISK_FIELDS)) + ("param.<name>",)

_BINARY: dict[Operator, Callable[[Any, Any], bool]] = {
    Operator.EQ: operator.eq,
    Operator.NEQ: operator.ne,
    Operator.GT: operator.gt,
    Operator.GTE: operator.ge,
    Operator.LT: operator.lt,
    Operator.LTE: operator.le,
}


def _extractor(name: str) -> Callable[[Any], Any]:
    """Reads the field from the risk assessment (risk fields) or the action (all others)."""
    if name == "risk":
        return operator.attrgetter("overall")
    if name.startswith("risk."):
        return operator.attrgetter(name[5:])
    if name.startswith("param."):
        key = name[6:]
        return lambda action: action.params.get(key)
    if name == "provenance":  # missing provenance is untrusted, here as everywhere
        return lambda action: action.provenance.value if action.provenance else "untrusted_external"
    return operator.attrgetter(name)


def _compile(name: str, op: Operator, value: Any) -> Callable[[ProposedAction, RiskAssessment], bool]:
    """One closure per condition, one Python call each: this is the evaluator's hot path. The
    common comparisons are written out (an operator in the closure, not a call to one)."""
    extract = _extractor(name)
    if name in _RISK_FIELDS:  # tiers are ranks: every comparison is defined
        return {
            Operator.EQ: lambda action, risk: extract(risk) == value,
            Operator.NEQ: lambda action, risk: extract(risk) != value,
            Operator.GT: lambda action, risk: extract(risk) > value,
            Operator.GTE: lambda action, risk: extract(risk) >= value,
            Operator.LT: lambda action, risk: extract(risk) < value,
            Operator.LTE: lambda action, risk: extract(risk) <= value,
            Operator.IN: lambda action, risk: extract(risk) in value,
        }.get(op, lambda action, risk: extract(risk) not in value)
    if op is Operator.EQ:  # equality and membership never raise, whatever the value
        return lambda action, risk: extract(action) == value
    if op is Operator.NEQ:
        return lambda action, risk: extract(action) != value
    compare = _BINARY.get(op) or {
        Operator.IN: lambda actual, wanted: actual in wanted,
        Operator.NOT_IN: lambda actual, wanted: actual not in wanted,
        Operator.CONTAINS: lambda actual, wanted: wanted in actual,
    }[op]

    def test(action: ProposedAction, risk: RiskAssessment) -> bool:
        try:
            return compare(extract(action), value)
        except TypeError:  # a missing value (None) ordered or searched: cannot match
            return False

    return test


def _coerce(name: str, value: Any) -> Any:
    if name in _RISK_FIELDS:
        try:
            return RiskTier.parse(value)
        except (ValueError, TypeError) as exc:
            raise RuleError(str(exc)) from None
    kind = _ACTION_FIELDS.get(name, str)
    if kind is bool:
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("true", "false"):
            return str(value).lower() == "true"
        raise RuleError(f"field {name!r} is true or false, got {value!r}")
    if kind is float:
        try:
            return float(value)
        except (TypeError, ValueError):
            raise RuleError(f"field {name!r} is a number, got {value!r}") from None
    if not isinstance(value, str):
        raise RuleError(f"field {name!r} is text, got {value!r}")
    return (normalize_domain(value) or "") if name == "domain" else value


@dataclass(frozen=True, slots=True)
class Condition:
    field: str
    operator: Operator
    value: Any
    test: Callable[[ProposedAction, RiskAssessment], bool] = dataclass_field(repr=False, compare=False)
    """The condition compiled into one closure, so evaluating it is a call and a comparison."""

    @classmethod
    def parse(cls, field: str, operator: str, value: Any) -> Condition:
        """Validate and normalise a condition (risk tiers become ranks) so evaluation never fails."""
        if not isinstance(field, str) or not (field in _ACTION_FIELDS or field in _RISK_FIELDS
                                              or (field.startswith("param.") and len(field) > 6)):
            raise RuleError(f"unknown field {field!r}; expected one of {', '.join(FIELDS)}")
        try:
            op = Operator(operator)
        except ValueError:
            raise RuleError(f"unknown operator {operator!r}; expected one of {', '.join(Operator)}") from None
        if op in (Operator.IN, Operator.NOT_IN):
            if not isinstance(value, list | tuple | set | frozenset) or not value:
                raise RuleError(f"operator {op.value!r} needs a non-empty list of values")
            normalised: Any = frozenset(_coerce(field, item) for item in value)
        elif op is Operator.CONTAINS:
            if _ACTION_FIELDS.get(field, str) is not str or field in _RISK_FIELDS:
                raise RuleError(f"operator 'contains' works on text fields, not {field!r}")
            normalised = _coerce(field, value)
        else:
            normalised = _coerce(field, value)
            if op in (Operator.GT, Operator.GTE, Operator.LT, Operator.LTE) and _ACTION_FIELDS.get(field) is bool:
                raise RuleError(f"field {field!r} cannot be ordered")
        return cls(field, op, normalised, _compile(field, op, normalised))

    def matches(self, action: ProposedAction, risk: RiskAssessment) -> bool:
        return self.test(action, risk)

    def to_json(self) -> dict[str, Any]:
        value = self.value
        if isinstance(value, frozenset):
            value = sorted(item.label if isinstance(item, RiskTier) else item for item in value)
        elif isinstance(value, RiskTier):
            value = value.label
        return {"field": self.field, "operator": self.operator.value, "value": value}


@dataclass(frozen=True, slots=True)
class Rule:
    conditions: tuple[Condition, ...]
    effect: Effect
    priority: int = 100
    """Lower runs first. The person's rules run before the built-in default (priority 1000)."""
    name: str = ""
    code: str = ""
    """Reason code reported when this rule decides."""
    matches: Callable[[ProposedAction, RiskAssessment], bool] = dataclass_field(
        init=False, repr=False, compare=False)
    """True when every condition holds (one closure call for the usual one-condition rule)."""

    def __post_init__(self) -> None:
        tests = tuple(condition.test for condition in self.conditions)
        if len(tests) == 1:
            matches = tests[0]
        else:
            def matches(action: ProposedAction, risk: RiskAssessment) -> bool:
                for test in tests:  # noqa: SIM110 - on every action's path: all() over a generator costs double
                    if not test(action, risk):
                        return False
                return True
        object.__setattr__(self, "matches", matches)

    @classmethod
    def build(cls, conditions: list[dict[str, Any]], effect: str, *, priority: int = 100, name: str = "",
              code: str = "") -> Rule:
        if not conditions:
            raise RuleError("a rule needs at least one condition")
        try:
            effect_value = Effect(effect)
        except ValueError:
            raise RuleError(f"unknown effect {effect!r}; expected allow, deny or require_approval") from None
        try:
            parsed = tuple(Condition.parse(c["field"], c["operator"], c["value"]) for c in conditions)
        except (KeyError, TypeError):
            raise RuleError("each condition needs a field, an operator and a value") from None
        default_code = {Effect.ALLOW: "rule_allow", Effect.DENY: "rule_deny",
                        Effect.REQUIRE_APPROVAL: "rule_requires_approval"}[effect_value]
        return cls(parsed, effect_value, priority, name, code or default_code)


def _builtin(field: str, op: str, value: Any, effect: Effect, code: str, name: str, priority: int) -> Rule:
    return Rule((Condition.parse(field, op, value),), effect, priority, name, code)


FIXED_RULES: tuple[Rule, ...] = (
    _builtin("risk.legal", "gt", "low", Effect.DENY, "legal_sensitive",
             "Legal sensitivity above low is never handled by the twin", 0),
    _builtin("risk.privacy", "gt", "low", Effect.DENY, "privacy_sensitive",
             "Privacy sensitivity above low is never handled by the twin", 0),
    # neq, not gt: a negative or unreadable (NaN) amount is money moving too.
    _builtin("spend", "neq", 0, Effect.DENY, "spend_not_allowed", "The twin never spends money", 0),
    _builtin("kind", "eq", "escalate_to_user", Effect.REQUIRE_APPROVAL, "escalation",
             "This is for you to handle", 0),
)
"""Always checked, before and regardless of the person's rules."""

DEFAULT_RULES: tuple[Rule, ...] = (
    _builtin("reversible", "eq", False, Effect.REQUIRE_APPROVAL, "irreversible",
             "This cannot be undone, so it waits for you", 1000),
)
"""Checked after the person's rules, which may get ahead of them with an `allow`."""
