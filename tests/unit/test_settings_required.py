"""`settings` is a required argument of evaluate, typed as the person's PolicySettings: the gate
(`mypy --strict` over the whole package, run by `.ci/run` before the tests) then fails any call in
the app that leaves it out or passes something else, and the evaluator refuses one at run time."""

from __future__ import annotations

import inspect
import tomllib
import typing
from pathlib import Path

import pytest

from skytwin_desktop.policy import PolicyEvaluator, PolicySettings, ProposedAction, RiskAssessment
from tests.policy_helpers import NOON


def test_settings_is_required_and_typed_for_the_gate():
    evaluate = PolicyEvaluator.evaluate
    parameter = inspect.signature(evaluate).parameters["settings"]
    assert parameter.default is inspect.Parameter.empty
    assert parameter.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
    assert typing.get_type_hints(evaluate)["settings"] is PolicySettings


def test_the_gate_checks_the_package_strictly():
    with (Path(__file__).resolve().parents[2] / "pyproject.toml").open("rb") as file:
        mypy = tomllib.load(file)["tool"]["mypy"]
    assert mypy["strict"] is True and mypy["files"] == ["skytwin_desktop"]


def test_leaving_out_settings_fails_at_run_time_too():
    evaluator = PolicyEvaluator(operator_paused=False)
    with pytest.raises(TypeError):
        evaluator.evaluate(ProposedAction("archive_email", "m1"), trust_tier="observer",  # type: ignore[call-arg]
                           risk=RiskAssessment(), now=NOON)
    with pytest.raises(TypeError, match="PolicySettings"):
        evaluator.evaluate(ProposedAction("archive_email", "m1"), None, "observer",  # type: ignore[arg-type]
                           RiskAssessment(), NOON)
