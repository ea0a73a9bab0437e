"""The policy core: pure functions and dataclasses (no Qt, no SQL, no network) that judge every
action the twin could take. `PolicyEvaluator.evaluate` is the one funnel."""

from skytwin_desktop.policy.evaluator import PolicyEvaluator
from skytwin_desktop.policy.model import (
    Check,
    Decision,
    Effect,
    ProposedAction,
    Provenance,
    RiskAssessment,
    RiskTier,
)
from skytwin_desktop.policy.rules import Condition, Operator, Rule, RuleError
from skytwin_desktop.policy.settings import PolicySettings

__all__ = [
    "Check",
    "Condition",
    "Decision",
    "Effect",
    "Operator",
    "PolicyEvaluator",
    "PolicySettings",
    "ProposedAction",
    "Provenance",
    "RiskAssessment",
    "RiskTier",
    "Rule",
    "RuleError",
]
