"""The plain data the evaluator reads and returns. No Qt, no SQL, no network."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from types import MappingProxyType
from typing import Any, NamedTuple

from skytwin_desktop.domain import Confirmation


class RiskTier(IntEnum):
    """Ordered so tiers compare by rank: LOW < MODERATE < HIGH < CRITICAL."""

    LOW = 0
    MODERATE = 1
    HIGH = 2
    CRITICAL = 3

    @classmethod
    def parse(cls, value: str | int | RiskTier) -> RiskTier:
        if isinstance(value, str):
            try:
                return cls[value.strip().upper()]
            except KeyError:
                raise ValueError(f"unknown risk tier {value!r}; expected low, moderate, high or critical") from None
        return cls(value)

    @property
    def label(self) -> str:
        return self.name.lower()


RISK_DIMENSIONS = ("reversibility", "financial", "legal", "privacy", "relationship", "operational")


@dataclass(frozen=True, slots=True)
class RiskAssessment:
    """Risk over named dimensions. `overall` is the highest, raised to HIGH when three or more
    dimensions are MODERATE or above (many medium risks add up)."""

    reversibility: RiskTier = RiskTier.LOW
    financial: RiskTier = RiskTier.LOW
    legal: RiskTier = RiskTier.LOW
    privacy: RiskTier = RiskTier.LOW
    relationship: RiskTier = RiskTier.LOW
    operational: RiskTier = RiskTier.LOW
    overall: RiskTier = field(init=False)

    def __post_init__(self) -> None:
        levels = [self.reversibility, self.financial, self.legal, self.privacy, self.relationship, self.operational]
        overall = max(levels)
        if sum(1 for level in levels if level >= RiskTier.MODERATE) >= 3:
            overall = max(overall, RiskTier.HIGH)
        object.__setattr__(self, "overall", RiskTier(overall))

    def to_json(self) -> dict[str, str]:
        return {name: getattr(self, name).label for name in RISK_DIMENSIONS}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RiskAssessment:
        return cls(**{name: RiskTier.parse(data[name]) for name in RISK_DIMENSIONS if name in data})


class Provenance(StrEnum):
    """Where the content that led to an action came from. Missing counts as untrusted."""

    USER_ORIGINATED = "user_originated"
    TRUSTED_CONTEXT = "trusted_context"
    UNTRUSTED_EXTERNAL = "untrusted_external"


SHELL_TEXT = re.compile(
    r"(\$\(|`|\|\s*(?:ba|z)?sh\b|;\s*\w+\s|&&|\brm\s+-|\bsudo\b|\bcurl\s+\S+\s*\||\bwget\s|powershell|cmd\.exe|/bin/)",
    re.IGNORECASE,
)
"""Command-like text: in content that came from someone's message, a sign of an injection attempt."""


def normalize_domain(domain: str | None) -> str | None:
    """One spelling for a domain everywhere it is compared: 'EVIL.com.', ' @evil.com' → 'evil.com'."""
    if domain is None:
        return None
    cleaned = domain.strip().lower().lstrip("@.").rstrip(".")
    return cleaned or None


@dataclass(frozen=True, slots=True)
class ProposedAction:
    """Something the twin could do. Defaults fail closed: irreversible and untrusted."""

    kind: str
    target: str
    key: str = ""
    """Idempotency key: the signal it came from plus the kind, so it is never done twice."""
    reversible: bool = False
    provenance: Provenance | None = None
    domain: str | None = None
    """The other party's domain (sender, organiser): what the domain allow/block lists judge."""
    spend: float = 0.0
    params: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    explanation: str = ""
    shell_like: bool = field(init=False, repr=False, compare=False)
    """Command-like text anywhere someone's message could have reached (worked out once)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "domain", normalize_domain(self.domain))
        texts = (self.target, self.explanation, *self.params.keys(), *map(str, self.params.values()))
        object.__setattr__(self, "shell_like", SHELL_TEXT.search("\n".join(texts)) is not None)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "target": self.target,
            "key": self.key,
            "reversible": self.reversible,
            "provenance": self.provenance.value if self.provenance else None,
            "domain": self.domain,
            "spend": self.spend,
            "params": dict(self.params),
            "explanation": self.explanation,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ProposedAction:
        provenance = data.get("provenance")
        return cls(
            kind=data["kind"],
            target=data["target"],
            key=data.get("key", ""),
            reversible=bool(data.get("reversible", False)),
            provenance=Provenance(provenance) if provenance else None,
            domain=data.get("domain"),
            spend=float(data.get("spend", 0.0)),
            params=MappingProxyType(dict(data.get("params") or {})),
            explanation=data.get("explanation", ""),
        )


class Check(StrEnum):
    """The evaluator's checks, in the order they run; `Decision.decided_by` names one."""

    TIER = "tier"
    INJECTION = "injection"
    SETTINGS = "settings"
    QUIET_HOURS = "quiet_hours"
    RULES = "rules"
    KILL_SWITCH = "kill_switch"
    DEFAULT = "default"


Ask = tuple[int, str, str, Check]
"""A check's wish that the person be asked: (approval level: 1 single, 2 dual; reason code; words;
the check). A plain tuple: the evaluator is on every action's path, and this is its cheapest shape."""


class Decision(NamedTuple):
    """Immutable, and a tuple underneath: cheap to build on the evaluator's hot path."""

    allowed: bool
    requires_approval: bool
    confirmation: Confirmation
    reason_code: str
    message: str
    decided_by: Check

    @property
    def auto_execute(self) -> bool:
        """True only when the action may run without asking the person."""
        return self.allowed and not self.requires_approval


class Effect(StrEnum):
    ALLOW = "allow"
    DENY = "deny"
    REQUIRE_APPROVAL = "require_approval"
