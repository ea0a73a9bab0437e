"""How each kind of action is carried out at Google, undone, and checked.

The executor dispatches here by kind, and this is the only module that calls connector writes.
Each kind also has a check ("is it already so at Google?") which a restart uses to resolve an
action that was recorded but may not have been carried out, instead of repeating it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from skytwin_desktop.connectors.endpoints import GoogleEndpoints
from skytwin_desktop.connectors.service import ConnectorService
from skytwin_desktop.connectors.writers import CalendarWriter, CannotApply, GmailWriter
from skytwin_desktop.domain import ActionKind, Connector
from skytwin_desktop.policy import ProposedAction, Provenance
from skytwin_desktop.twin.executor import ExecutionRefused

if TYPE_CHECKING:
    from skytwin_desktop.connectors.http import GoogleHttp

UNDO_PREFIX = "undo_"
RESPONSES = {ActionKind.ACCEPT_INVITE: "accepted", ActionKind.TENTATIVE_ACCEPT: "tentative",
             ActionKind.DECLINE_INVITE: "declined"}
UNDOABLE = frozenset({ActionKind.ARCHIVE_EMAIL, ActionKind.LABEL_EMAIL, ActionKind.ACCEPT_INVITE,
                      ActionKind.TENTATIVE_ACCEPT})
"""Reversible kinds with an undo (declining cannot be taken back: the organiser was told)."""


@dataclass(frozen=True)
class Step:
    """One remote change: what to do, and how to tell it is already done."""

    connector: Connector
    run: Callable[[GoogleHttp], str]
    done: Callable[[GoogleHttp], bool]


def undo_action(action: ProposedAction) -> ProposedAction:
    """The person's request to reverse an action the twin carried out."""
    return ProposedAction(kind=UNDO_PREFIX + action.kind, target=action.target, key=f"{action.key}:undo",
                          reversible=True, provenance=Provenance.USER_ORIGINATED, domain=action.domain,
                          params=action.params, explanation="You asked to undo this")


class Handlers:
    def __init__(self, service: ConnectorService, endpoints: GoogleEndpoints) -> None:
        self.service = service
        self.endpoints = endpoints

    def kinds(self) -> dict[str, Callable[[ProposedAction], str]]:
        """The executor's dispatch table: every kind the twin proposes, and their undos."""
        kinds = [*ActionKind, *(UNDO_PREFIX + kind.value for kind in UNDOABLE)]
        return {str(kind): self.execute for kind in kinds}

    def execute(self, action: ProposedAction) -> str:
        step = self.step(action)
        if step is None:
            return "Marked as seen (your twin only wanted you to know; nothing changes at Google)"
        return self.service.call(step.connector, step.run)

    def is_done(self, action: ProposedAction) -> bool:
        """Whether Google already shows the action's effect (reads only)."""
        step = self.step(action)
        return True if step is None else self.service.call(step.connector, step.done)

    def step(self, action: ProposedAction) -> Step | None:
        undo = action.kind.startswith(UNDO_PREFIX)
        try:
            kind = ActionKind(action.kind.removeprefix(UNDO_PREFIX))
        except ValueError:
            raise ExecutionRefused(f"no way to carry out {action.kind!r}") from None
        params = action.params
        if kind is ActionKind.ESCALATE_TO_USER:
            return None
        try:
            if kind in (ActionKind.ARCHIVE_EMAIL, ActionKind.LABEL_EMAIL):
                return self._gmail(kind, params["message_id"], params.get("label"), undo)
            response = params.get("previous_response", "needsAction") if undo else RESPONSES[kind]
            return self._calendar(params["event_id"], response)
        except KeyError as exc:
            raise ExecutionRefused(f"the action does not say which {exc.args[0].replace('_', ' ')} it is for") from None

    def _gmail(self, kind: ActionKind, message_id: str, label_name: str | None, undo: bool) -> Step:
        def label(http: GoogleHttp) -> str:
            if kind is ActionKind.ARCHIVE_EMAIL:
                return "INBOX"
            found = GmailWriter(http, self.endpoints.gmail).label_id(label_name or "")
            if found is None:
                raise CannotApply(f"there is no Gmail label '{label_name}'; create it in Gmail")
            return found

        # Archiving removes INBOX; labelling adds a label; undo does the opposite.
        adds = (kind is ActionKind.LABEL_EMAIL) != undo

        def run(http: GoogleHttp) -> str:
            writer, name = GmailWriter(http, self.endpoints.gmail), label(http)
            writer.modify_message_labels(message_id, [name] if adds else [], [] if adds else [name])
            verb = {(ActionKind.ARCHIVE_EMAIL, False): "Archived", (ActionKind.ARCHIVE_EMAIL, True): "Moved back to the inbox",
                    (ActionKind.LABEL_EMAIL, False): f"Labelled '{label_name}'",
                    (ActionKind.LABEL_EMAIL, True): f"Label '{label_name}' removed"}[(kind, undo)]
            return verb

        def done(http: GoogleHttp) -> bool:
            present = label(http) in GmailWriter(http, self.endpoints.gmail).message_labels(message_id)
            return present == adds

        return Step(Connector.GMAIL, run, done)

    def _calendar(self, event_id: str, response: str) -> Step:
        def run(http: GoogleHttp) -> str:
            CalendarWriter(http, self.endpoints.calendar).patch_own_response(event_id, response)
            return f"Your answer is now '{response}'"

        def done(http: GoogleHttp) -> bool:
            return CalendarWriter(http, self.endpoints.calendar).own_response(event_id) == response

        return Step(Connector.CALENDAR, run, done)
