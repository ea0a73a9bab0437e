"""What each kind of action does at Google, how to tell it is already so there, and how to undo
it: one registry, read by kind.

The executor carries an action out through here, and this is the only module that calls connector
writes. Each change comes with its check ("is it already so at Google?"), which a restart uses to
resolve an action that was recorded but may not have reached Google, instead of repeating it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from skytwin_desktop.connectors.endpoints import GoogleEndpoints
from skytwin_desktop.connectors.service import ConnectorService
from skytwin_desktop.connectors.writers import CalendarWriter, CannotApply, GmailWriter
from skytwin_desktop.domain import ActionKind, Connector, undo_kind
from skytwin_desktop.policy import ProposedAction, Provenance
from skytwin_desktop.twin.executor import ExecutionRefused, Handler

if TYPE_CHECKING:
    from skytwin_desktop.connectors.http import GoogleHttp

NOTHING_AT_GOOGLE = "Marked as seen (your twin only wanted you to know; nothing changes at Google)"


@dataclass(frozen=True)
class Change:
    """One change at Google: how to make it, and how to tell it is already made."""

    connector: Connector
    make: Callable[[GoogleHttp], str]
    made: Callable[[GoogleHttp], bool]


Params = Mapping[str, Any]
Plan = Callable[[Params, GoogleEndpoints], Change | None]
"""The change an action with these parameters makes; None when nothing changes at Google."""


@dataclass(frozen=True)
class Steps:
    """What the twin can do for one kind of action: carry it out and, for some, undo it."""

    do: Plan
    undo: Plan | None = None


def _gmail(kind: ActionKind, undo: bool, params: Params, endpoints: GoogleEndpoints) -> Change:
    """Archiving removes INBOX; labelling adds a label; their undos do the opposite."""
    message_id, label_name = params["message_id"], params.get("label")

    def label(http: GoogleHttp) -> str:
        if kind is ActionKind.ARCHIVE_EMAIL:
            return "INBOX"
        found = GmailWriter(http, endpoints.gmail).label_id(label_name or "")
        if found is None:
            raise CannotApply(f"there is no Gmail label '{label_name}'; create it in Gmail")
        return found

    adds = (kind is ActionKind.LABEL_EMAIL) != undo
    said = {(ActionKind.ARCHIVE_EMAIL, False): "Archived",
            (ActionKind.ARCHIVE_EMAIL, True): "Moved back to the inbox",
            (ActionKind.LABEL_EMAIL, False): f"Labelled '{label_name}'",
            (ActionKind.LABEL_EMAIL, True): f"Label '{label_name}' removed"}[(kind, undo)]

    def make(http: GoogleHttp) -> str:
        name = label(http)
        GmailWriter(http, endpoints.gmail).modify_message_labels(message_id, [name] if adds else [],
                                                                 [] if adds else [name])
        return said

    def made(http: GoogleHttp) -> bool:
        present = label(http) in GmailWriter(http, endpoints.gmail).message_labels(message_id)
        return present == adds

    return Change(Connector.GMAIL, make, made)


def _answer(response: str | None, params: Params, endpoints: GoogleEndpoints) -> Change:
    """The person's answer to an invitation; None: the answer they had before (an undo)."""
    event_id = params["event_id"]
    wanted = response if response is not None else params.get("previous_response", "needsAction")

    def make(http: GoogleHttp) -> str:
        CalendarWriter(http, endpoints.calendar).patch_own_response(event_id, wanted)
        return f"Your answer is now '{wanted}'"

    def made(http: GoogleHttp) -> bool:
        return CalendarWriter(http, endpoints.calendar).own_response(event_id) == wanted

    return Change(Connector.CALENDAR, make, made)


def _nothing(params: Params, endpoints: GoogleEndpoints) -> None:
    return None


REGISTRY: dict[ActionKind, Steps] = {
    ActionKind.ARCHIVE_EMAIL: Steps(partial(_gmail, ActionKind.ARCHIVE_EMAIL, False),
                                    partial(_gmail, ActionKind.ARCHIVE_EMAIL, True)),
    ActionKind.LABEL_EMAIL: Steps(partial(_gmail, ActionKind.LABEL_EMAIL, False),
                                  partial(_gmail, ActionKind.LABEL_EMAIL, True)),
    ActionKind.ACCEPT_INVITE: Steps(partial(_answer, "accepted"), partial(_answer, None)),
    ActionKind.TENTATIVE_ACCEPT: Steps(partial(_answer, "tentative"), partial(_answer, None)),
    ActionKind.DECLINE_INVITE: Steps(partial(_answer, "declined")),  # the organiser was told: no undo
    ActionKind.ESCALATE_TO_USER: Steps(_nothing),
}
UNDOABLE = frozenset(kind for kind, steps in REGISTRY.items() if steps.undo is not None)
_PLANS: dict[str, Plan] = {kind.value: steps.do for kind, steps in REGISTRY.items()} | {
    undo_kind(kind.value): steps.undo for kind, steps in REGISTRY.items() if steps.undo is not None}


def undo_action(action: ProposedAction) -> ProposedAction:
    """The person's request to reverse an action the twin carried out."""
    return ProposedAction(kind=undo_kind(action.kind), target=action.target, key=f"{action.key}:undo",
                          reversible=True, provenance=Provenance.USER_ORIGINATED, domain=action.domain,
                          params=action.params, explanation="You asked to undo this")


class Actions:
    """The registry at work on the person's Google account, through the connectors."""

    def __init__(self, service: ConnectorService, endpoints: GoogleEndpoints) -> None:
        self.service = service
        self.endpoints = endpoints

    def handlers(self) -> dict[str, Handler]:
        """The executor's table: one handler for each kind the twin proposes and each undo."""
        return {name: partial(self._carry_out, plan) for name, plan in _PLANS.items()}

    def is_done(self, action: ProposedAction) -> bool:
        """Whether Google already shows the action's effect (reads only)."""
        change = self._change(_PLANS.get(action.kind), action)
        return True if change is None else self.service.call(change.connector, change.made)

    def _carry_out(self, plan: Plan, action: ProposedAction) -> str:
        change = self._change(plan, action)
        return NOTHING_AT_GOOGLE if change is None else self.service.call(change.connector, change.make)

    def _change(self, plan: Plan | None, action: ProposedAction) -> Change | None:
        if plan is None:
            raise ExecutionRefused(f"no way to carry out {action.kind!r}")
        try:
            return plan(action.params, self.endpoints)
        except KeyError as exc:
            raise ExecutionRefused(f"the action does not say which {exc.args[0].replace('_', ' ')} it is for") from None
