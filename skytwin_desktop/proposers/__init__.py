"""Proposers: pure, rule-based functions that turn one signal into candidate actions.

No Qt, no SQL, no network: a signal and the person's proposer settings in, proposals out. Each
rule is a small function; a signal that matches none brings no action (no noise). Nothing here
decides whether an action runs: every proposal goes through the policy evaluator.
"""

from __future__ import annotations

from skytwin_desktop.proposers.calendar import propose_for_event
from skytwin_desktop.proposers.common import Proposal, ProposerSettings, action_key
from skytwin_desktop.proposers.gmail import propose_for_email
from skytwin_desktop.signals import EmailSignal, EventSignal, Signal

__all__ = ["Proposal", "ProposerSettings", "action_key", "propose"]


def propose(signal: Signal, settings: ProposerSettings) -> list[Proposal]:
    if isinstance(signal, EmailSignal):
        return propose_for_email(signal, settings)
    if isinstance(signal, EventSignal):
        return propose_for_event(signal, settings)
    return []
