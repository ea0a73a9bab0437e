"""Deciding and logging are one step: a decision that was not logged cannot be executed."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from skytwin_desktop.domain import Confirmation, TrustTier
from skytwin_desktop.policy import (
    Check,
    Decision,
    PolicyEvaluator,
    PolicySettings,
    ProposedAction,
    RiskAssessment,
)
from skytwin_desktop.store.policy import append_decision, append_decisions

log = logging.getLogger(__name__)
_ISSUED = object()


@dataclass(frozen=True, slots=True)
class LoggedDecision:
    """A decision that is in the decision log. Only `PolicyGate.decide` makes these."""

    decision: Decision
    log_id: int
    action_key: str
    _issuer: object = field(repr=False, compare=False)

    def __post_init__(self) -> None:
        if self._issuer is not _ISSUED:
            raise TypeError("LoggedDecision comes only from PolicyGate.decide")


class PolicyGate:
    """The evaluator plus the decision log. Every caller that wants an action judged comes here."""

    def __init__(self, evaluator: PolicyEvaluator) -> None:
        self.evaluator = evaluator

    def decide(
        self,
        session: Session,
        user_id: int,
        action: ProposedAction,
        *,
        settings: PolicySettings,
        trust_tier: TrustTier | str,
        risk: RiskAssessment,
        now: datetime,
    ) -> LoggedDecision:
        decision = self._evaluate(action, settings, trust_tier, risk, now)
        log_id = append_decision(session, user_id, action, decision)
        return LoggedDecision(decision, log_id, action.key, _ISSUED)

    def decide_many(self, session: Session, user_id: int, items: Sequence[tuple[ProposedAction, RiskAssessment]],
                    *, settings: PolicySettings, trust_tier: TrustTier | str, now: datetime) -> list[LoggedDecision]:
        """`decide` for a poll's worth of actions, logged in one statement."""
        decisions = [self._evaluate(action, settings, trust_tier, risk, now) for action, risk in items]
        ids = append_decisions(session, user_id, [(action, d) for (action, _), d in zip(items, decisions, strict=True)])
        return [LoggedDecision(d, log_id, action.key, _ISSUED)
                for (action, _), d, log_id in zip(items, decisions, ids, strict=True)]

    def _evaluate(self, action: ProposedAction, settings: PolicySettings, trust_tier: TrustTier | str,
                  risk: RiskAssessment, now: datetime) -> Decision:
        try:
            return self.evaluator.evaluate(action, settings, trust_tier, risk, now)
        except Exception as exc:  # fail closed: a decision we cannot make is a deny, and it is logged
            log.exception("Policy evaluation failed for %s", action.kind)
            return Decision(False, False, Confirmation.NONE, "evaluation_failed",
                            f"The policy check failed ({type(exc).__name__}); nothing runs", Check.DEFAULT)
