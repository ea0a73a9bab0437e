"""Small builders shared by the policy tests."""

from __future__ import annotations

from datetime import UTC, datetime, time

from skytwin_desktop.policy import (
    PolicySettings,
    ProposedAction,
    Provenance,
    RiskAssessment,
    RiskTier,
    Rule,
)

NOON = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)


def action(kind: str = "archive_email", *, reversible: bool = True,
           provenance: Provenance | None = Provenance.TRUSTED_CONTEXT, domain: str | None = "news.example.com",
           spend: float = 0.0, params: dict[str, str] | None = None, key: str = "") -> ProposedAction:
    return ProposedAction(kind=kind, target="msg-1", key=key or f"sig-1:{kind}", reversible=reversible,
                          provenance=provenance, domain=domain, spend=spend, params=params or {})


def risk(overall: str = "low", **dimensions: str) -> RiskAssessment:
    values = {name: RiskTier.parse(level) for name, level in dimensions.items()}
    if overall != "low" and "operational" not in values:
        values["operational"] = RiskTier.parse(overall)
    return RiskAssessment(**values)


def settings(**overrides) -> PolicySettings:
    return PolicySettings(**overrides)


def quiet(start: str, end: str) -> tuple[time, time]:
    return time.fromisoformat(start), time.fromisoformat(end)


def rule(field: str, operator: str, value, effect: str, priority: int = 100, name: str = "") -> Rule:
    return Rule.build([{"field": field, "operator": operator, "value": value}], effect, priority=priority, name=name)
