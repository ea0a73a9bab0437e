"""Gmail proposers: archive newsletters, label mail from marked senders, escalate mail that needs
a reply. Mail is someone else's text, so every proposal from it is `untrusted_external`."""

from __future__ import annotations

import re

from skytwin_desktop.domain import ActionKind, Connector, Urgency
from skytwin_desktop.policy import Provenance, RiskAssessment
from skytwin_desktop.proposers.common import Proposal, ProposerSettings, make, matches
from skytwin_desktop.signals import EmailSignal

BULK_PRECEDENCE = frozenset({"bulk", "list", "junk"})
NO_REPLY = re.compile(r"^(no[-_.]?reply|do[-_.]?not[-_.]?reply|notifications?|mailer-daemon|postmaster)\b",
                      re.IGNORECASE)
REQUEST = re.compile(
    r"\?|\b(can you|could you|would you|will you|please (?:confirm|reply|send|review|let me know)|let me know|"
    r"are you (?:free|available)|your thoughts|get back to me|rsvp)\b",
    re.IGNORECASE,
)


def _subject(signal: EmailSignal) -> str:
    return " ".join(signal.subject.split())[:120] or "(no subject)"


def _describe(signal: EmailSignal) -> str:
    if signal.sender:
        return f'"{_subject(signal)}" from {signal.sender}'
    unclear = f" ({signal.sender_name[:120]})" if signal.sender_name else ""
    return f'"{_subject(signal)}" from an unclear sender{unclear}'


def is_newsletter(signal: EmailSignal) -> bool:
    precedence = (signal.precedence or "").strip().lower()
    return bool(signal.list_unsubscribe or signal.list_id) or precedence in BULK_PRECEDENCE


def _bulk_reason(signal: EmailSignal) -> str:
    """In words, what marks the mail as bulk. (Explanations avoid semicolons: the injection guard
    reads '; word' as command-like text.)"""
    if signal.list_unsubscribe:
        return "a newsletter with an unsubscribe link"
    if signal.list_id:
        return "mailing-list mail"
    return "bulk mail"


def is_automated(signal: EmailSignal) -> bool:
    auto = (signal.auto_submitted or "no").strip().lower()
    return is_newsletter(signal) or auto != "no" or bool(NO_REPLY.match(signal.sender.partition("@")[0]))


def archive_newsletter(signal: EmailSignal, settings: ProposerSettings) -> Proposal | None:
    if "INBOX" not in signal.labels or not is_newsletter(signal):
        return None
    return make(ActionKind.ARCHIVE_EMAIL, Connector.GMAIL, signal.message_id, target=_describe(signal),
                explanation=f"This is {_bulk_reason(signal)}. Archiving it keeps your inbox for people, "
                            "and it stays in All Mail.",
                domain=signal.sender_domain, reversible=True, provenance=Provenance.UNTRUSTED_EXTERNAL,
                risk=RiskAssessment(), urgency=Urgency.LOW, message_id=signal.message_id)


def label_marked_sender(signal: EmailSignal, settings: ProposerSettings) -> Proposal | None:
    if not signal.sender:
        return None
    label = next((name for pattern, name in settings.sender_labels if matches(signal.sender, (pattern,))), None)
    if label is None:
        return None
    return make(ActionKind.LABEL_EMAIL, Connector.GMAIL, signal.message_id, target=_describe(signal),
                explanation=f"You asked for mail from {signal.sender} to be labelled '{label}'.",
                domain=signal.sender_domain, reversible=True, provenance=Provenance.UNTRUSTED_EXTERNAL,
                risk=RiskAssessment(), urgency=Urgency.LOW, message_id=signal.message_id, label=label)


def escalate_reply_needed(signal: EmailSignal, settings: ProposerSettings) -> Proposal | None:
    """A person wrote to you directly and asks something: that is yours to answer (the twin never
    replies on its own: sending cannot be undone). Telling you changes nothing, so its risk is low;
    the fixed escalation rule makes it wait for you."""
    if "INBOX" not in signal.labels or "UNREAD" not in signal.labels or is_automated(signal):
        return None
    if not signal.sender or signal.sender in settings.own_addresses:
        return None
    if settings.own_addresses and not settings.own_addresses & set(signal.to):
        return None  # copied or bcc'd: not addressed to you
    if not REQUEST.search(f"{signal.subject}\n{signal.snippet}"):
        return None
    return make(ActionKind.ESCALATE_TO_USER, Connector.GMAIL, signal.message_id, target=_describe(signal),
                explanation=f"{signal.sender_name or signal.sender} wrote to you and seems to expect a reply.",
                domain=signal.sender_domain, reversible=True, provenance=Provenance.UNTRUSTED_EXTERNAL,
                risk=RiskAssessment(), urgency=Urgency.NORMAL, message_id=signal.message_id)


RULES = (archive_newsletter, label_marked_sender, escalate_reply_needed)


def propose_for_email(signal: EmailSignal, settings: ProposerSettings) -> list[Proposal]:
    return [proposal for rule in RULES if (proposal := rule(signal, settings)) is not None]
