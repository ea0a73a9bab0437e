"""Calendar proposers: accept an invite from a trusted contact when the time is free; when it
clashes, answer "tentative" for a trusted contact and hand anyone else's to the person."""

from __future__ import annotations

from datetime import UTC, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from skytwin_desktop import words
from skytwin_desktop.domain import ActionKind, Connector, Urgency
from skytwin_desktop.policy import Provenance, RiskAssessment, RiskTier
from skytwin_desktop.proposers.common import Proposal, ProposerSettings, make, matches
from skytwin_desktop.signals import EventSignal


def _describe(signal: EventSignal, settings: ProposerSettings) -> str:
    """Kept with the approval, so the time is written out in the person's zone (never relative)."""
    title = " ".join(signal.summary.split())[:120] or "(untitled event)"
    when = f" on {words.date_time(signal.start, _zone(settings.timezone))}" if signal.start else ""
    return f'"{title}"{when} from {signal.organizer or "an unknown organiser"}'


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def _domain(signal: EventSignal) -> str | None:
    return signal.organizer.rpartition("@")[2] or None


def _invite(signal: EventSignal, settings: ProposerSettings) -> bool:
    return signal.is_invite and bool(signal.organizer) and signal.organizer not in settings.own_addresses


def accept_trusted(signal: EventSignal, settings: ProposerSettings) -> Proposal | None:
    if not _invite(signal, settings) or signal.conflicts or not matches(signal.organizer, settings.trusted_contacts):
        return None
    return make(ActionKind.ACCEPT_INVITE, Connector.CALENDAR, signal.event_id, target=_describe(signal, settings),
                explanation=f"{signal.organizer} is one of your trusted contacts and you are free then.",
                domain=_domain(signal), reversible=True, provenance=Provenance.TRUSTED_CONTEXT,
                risk=RiskAssessment(), urgency=Urgency.NORMAL, event_id=signal.event_id, response="accepted",
                previous_response=signal.self_response or "needsAction")


def answer_conflict(signal: EventSignal, settings: ProposerSettings) -> Proposal | None:
    if not _invite(signal, settings) or not signal.conflicts:
        return None
    clashes = f"{len(signal.conflicts)} other event{'s' if len(signal.conflicts) > 1 else ''}"
    if matches(signal.organizer, settings.trusted_contacts):
        return make(ActionKind.TENTATIVE_ACCEPT, Connector.CALENDAR, signal.event_id,
                    target=_describe(signal, settings),
                    explanation=f"{signal.organizer} is a trusted contact, but this clashes with {clashes}. "
                                "Answering 'maybe' holds the slot until you choose.",
                    domain=_domain(signal), reversible=True, provenance=Provenance.TRUSTED_CONTEXT,
                    risk=RiskAssessment(relationship=RiskTier.MODERATE, operational=RiskTier.MODERATE),
                    urgency=Urgency.NORMAL, event_id=signal.event_id, response="tentative",
                    previous_response=signal.self_response or "needsAction")
    return make(ActionKind.ESCALATE_TO_USER, Connector.CALENDAR, signal.event_id, target=_describe(signal, settings),
                explanation=f"This invitation clashes with {clashes}, and only you can choose.",
                domain=_domain(signal), reversible=True, provenance=Provenance.UNTRUSTED_EXTERNAL,
                risk=RiskAssessment(), urgency=Urgency.NORMAL,
                event_id=signal.event_id)


RULES = (accept_trusted, answer_conflict)


def propose_for_event(signal: EventSignal, settings: ProposerSettings) -> list[Proposal]:
    return [proposal for rule in RULES if (proposal := rule(signal, settings)) is not None]
