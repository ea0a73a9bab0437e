"""Edge cases found by probing the evaluator: each once let something through or crashed."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from skytwin_desktop.domain import Confirmation
from skytwin_desktop.policy import (
    PolicyEvaluator,
    PolicySettings,
    ProposedAction,
    Provenance,
    RiskAssessment,
)
from tests.policy_helpers import NOON, quiet, rule

T = Provenance.TRUSTED_CONTEXT
EVALUATOR = PolicyEvaluator(operator_paused=False)


def decide(act, policy=None, now=NOON):
    return EVALUATOR.evaluate(act, policy or PolicySettings(), "high_autonomy", RiskAssessment(), now)


@pytest.mark.parametrize("spend", [float("nan"), -50.0, 0.01])
def test_any_money_moving_is_denied(spend):
    act = ProposedAction("archive_email", "m", reversible=True, provenance=T, spend=spend)
    assert decide(act).reason_code == "spend_not_allowed"
    assert ProposedAction.from_json({**act.to_json(), "spend": "nan"}).spend != 0


@pytest.mark.parametrize("spelling", ["evil.com.", " evil.com", "EVIL.com", "@evil.com", "Mail.Evil.COM."])
def test_blocked_domains_cannot_be_dodged_by_spelling(spelling):
    act = ProposedAction("archive_email", "m", reversible=True, provenance=T, domain=spelling)
    assert decide(act, PolicySettings(blocked_domains=frozenset({"evil.com"}))).reason_code == "blocked_domain"
    assert decide(act, PolicySettings(rules=(rule("domain", "in", ["evil.com", "mail.evil.com"], "deny"),))
                  ).reason_code == "rule_deny"


def test_allow_list_entries_with_a_leading_dot_still_match():
    act = ProposedAction("archive_email", "m", reversible=True, provenance=T, domain="news.example.com")
    assert decide(act, PolicySettings(allowed_domains=frozenset({".example.com"}))).auto_execute


@pytest.mark.parametrize("kind, level", [("CLOSE_ACCOUNT", Confirmation.DUAL), ("close-account", Confirmation.DUAL),
                                         ("Delete_Account", Confirmation.DUAL), ("deleteMessage", Confirmation.SINGLE),
                                         ("forwardAll", Confirmation.SINGLE), ("runShellCommand", Confirmation.DUAL)])
def test_kind_spelling_does_not_dodge_the_injection_guard(kind, level):
    decision = decide(ProposedAction(kind, "m", reversible=True, provenance=T))
    assert decision.requires_approval and decision.confirmation is level


@pytest.mark.parametrize("where", ["target", "explanation", "param_key"])
def test_shell_text_is_caught_wherever_it_appears(where):
    text = "$(rm -rf ~)"
    fields = {"target": "m", "explanation": "", "params": {}}
    if where == "param_key":
        fields["params"] = {text: "x"}
    else:
        fields[where] = text
    decision = decide(ProposedAction(kind="send_reply", reversible=True, provenance=T, **fields))
    assert (decision.reason_code, decision.confirmation) == ("shell_like_text", Confirmation.DUAL)


def test_edge_of_calendar_instants_fail_closed_instead_of_crashing():
    policy = PolicySettings(timezone="America/New_York", quiet_hours=quiet("22:00", "07:00"))
    act = ProposedAction("archive_email", "m", reversible=True, provenance=T)
    assert decide(act, policy, now=datetime.min.replace(tzinfo=UTC)).reason_code == "quiet_hours"
    kolkata = PolicySettings(timezone="Asia/Kolkata", quiet_hours=quiet("22:00", "07:00"))
    assert decide(act, kolkata, now=datetime.max.replace(tzinfo=UTC)).requires_approval


def test_quiet_hours_with_a_timezone_are_refused_when_settings_are_built():
    with pytest.raises(ValueError, match="without tzinfo"):
        PolicySettings(quiet_hours=(time(22, tzinfo=UTC), time(7, tzinfo=UTC)))
