"""Policy rules: every operator, risk tiers by rank, any action field, and refusal of bad rules."""

from __future__ import annotations

import pytest

from skytwin_desktop.policy import Condition, Rule, RuleError
from tests.policy_helpers import action, risk


@pytest.mark.parametrize(
    "field, operator, value, act, level, expected",
    [
        ("kind", "eq", "archive_email", action(), "low", True),
        ("kind", "neq", "archive_email", action(), "low", False),
        ("spend", "gt", 0, action(spend=1.5), "low", True),
        ("spend", "gte", 1.5, action(spend=1.5), "low", True),
        ("spend", "lt", 1, action(spend=1.5), "low", False),
        ("spend", "lte", "1.5", action(spend=1.5), "low", True),
        ("domain", "in", ["A.example", "news.example.com"], action(), "low", True),
        ("domain", "not_in", ["news.example.com"], action(), "low", False),
        ("target", "contains", "msg", action(), "low", True),
        ("risk", "gt", "low", action(), "moderate", True),
        ("risk", "gte", "high", action(), "moderate", False),
        ("risk", "lt", "critical", action(), "high", True),
        ("risk.legal", "eq", "low", action(), "high", True),
        ("risk", "in", ["high", "critical"], action(), "critical", True),
        ("reversible", "eq", "false", action(reversible=False), "low", True),
        ("provenance", "eq", "untrusted_external", action(provenance=None), "low", True),
        ("param.label", "eq", "Receipts", action(params={"label": "Receipts"}), "low", True),
        ("param.label", "gt", "A", action(), "low", False),  # a missing param never matches an order
    ],
)
def test_condition_operators(field, operator, value, act, level, expected):
    assert Condition.parse(field, operator, value).matches(act, risk(level)) is expected


def test_all_conditions_of_a_rule_must_match():
    both = Rule.build([{"field": "kind", "operator": "eq", "value": "archive_email"},
                       {"field": "domain", "operator": "eq", "value": "other.example"}], "deny")
    assert not both.matches(action(), risk())
    assert both.matches(action(domain="other.example"), risk())


@pytest.mark.parametrize(
    "conditions, effect, message",
    [
        ([{"field": "colour", "operator": "eq", "value": "red"}], "deny", "unknown field"),
        ([{"field": "kind", "operator": "like", "value": "x"}], "deny", "unknown operator"),
        ([{"field": "risk", "operator": "gt", "value": "extreme"}], "deny", "unknown risk tier"),
        ([{"field": "spend", "operator": "gt", "value": "lots"}], "deny", "is a number"),
        ([{"field": "kind", "operator": "in", "value": "archive_email"}], "deny", "non-empty list"),
        ([{"field": "reversible", "operator": "gt", "value": True}], "deny", "cannot be ordered"),
        ([{"field": "risk", "operator": "contains", "value": "low"}], "deny", "text fields"),
        ([{"field": "kind", "operator": "eq", "value": "x"}], "maybe", "unknown effect"),
        ([], "deny", "at least one condition"),
    ],
)
def test_bad_rules_are_refused_when_written(conditions, effect, message):
    with pytest.raises(RuleError, match=message):
        Rule.build(conditions, effect)


def test_conditions_round_trip_through_json():
    original = Condition.parse("risk", "in", ["high", "moderate"])
    again = Condition.parse(**original.to_json())
    assert again.value == original.value
    assert original.to_json() == {"field": "risk", "operator": "in", "value": ["high", "moderate"]}
