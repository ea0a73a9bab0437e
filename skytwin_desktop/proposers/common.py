"""What every proposer shares: the settings it reads, the proposal it returns, and matching of
addresses against the person's lists."""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from skytwin_desktop.domain import ActionKind, Connector, Urgency
from skytwin_desktop.policy import ProposedAction, Provenance, RiskAssessment


@dataclass(frozen=True, slots=True)
class ProposerSettings:
    own_addresses: frozenset[str] = frozenset()
    """The person's own addresses (lower-case): mail from them is not someone else's request."""
    trusted_contacts: frozenset[str] = frozenset()
    """Addresses or domains (lower-case) whose invites may be accepted."""
    sender_labels: tuple[tuple[str, str], ...] = ()
    """(address or domain, Gmail label name) pairs, first match wins."""
    timezone: str = "UTC"
    """The person's IANA zone: times in what the proposers write are in it."""


@dataclass(frozen=True, slots=True)
class Proposal:
    action: ProposedAction
    risk: RiskAssessment
    urgency: Urgency = Urgency.NORMAL


def action_key(connector: Connector, signal_id: str, kind: ActionKind) -> str:
    """The idempotency key: one action of a kind per signal, ever."""
    return f"{connector.value}:{signal_id}:{kind.value}"


def matches(address: str, entries: frozenset[str] | tuple[str, ...]) -> bool:
    """An entry is an address (exact) or a domain (covering its subdomains)."""
    address = address.lower()
    domain = address.rpartition("@")[2]
    for entry in entries:
        if "@" in entry:
            if address == entry:
                return True
        elif domain == entry or domain.endswith("." + entry):
            return True
    return False


def make(kind: ActionKind, connector: Connector, signal_id: str, *, target: str, explanation: str,
         domain: str | None, reversible: bool, provenance: Provenance, risk: RiskAssessment,
         urgency: Urgency = Urgency.NORMAL, **params: str) -> Proposal:
    action = ProposedAction(kind=kind.value, target=target, key=action_key(connector, signal_id, kind),
                            reversible=reversible, provenance=provenance, domain=domain,
                            params=MappingProxyType(params), explanation=explanation)
    return Proposal(action, risk, urgency)
