"""The twin: its three jobs behind one object, for the façade.

- `twin.inbox`: the pass over what the polls stored (propose, judge, run or queue);
- `twin.recovery`: actions a crash or a quit left unfinished, resolved at the start of each pass;
- `twin.answers`: the person's approve, reject and undo.

They share one `Carrier` (judging, the call to Google, the record's outcome) and one `Holds`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime

from skytwin_desktop.outcomes import Answer, BatchReport
from skytwin_desktop.store.database import Sessions
from skytwin_desktop.twin.answers import Answers
from skytwin_desktop.twin.carrying import Carrier
from skytwin_desktop.twin.executor import Executor
from skytwin_desktop.twin.gate import PolicyGate
from skytwin_desktop.twin.holds import Holds
from skytwin_desktop.twin.inbox import InboxPass
from skytwin_desktop.twin.recovery import Recovery
from skytwin_desktop.twin.steps import Actions


class Twin:
    def __init__(self, sessions: Sessions, user_id: int, gate: PolicyGate, actions: Actions,
                 clock: Callable[[], datetime], *, executor: Executor | None = None,
                 stopping: threading.Event | None = None, holds: Holds | None = None) -> None:
        """`holds`: the process's one; a twin made beside another in the same process shares it."""
        self.actions = actions
        self.holds = holds or Holds()
        carrier = Carrier(sessions, user_id, gate, executor or Executor(actions.handlers()), clock,
                          stopping or threading.Event(), self.holds)
        self._inbox = InboxPass(carrier, Recovery(carrier, actions))
        self._answers = Answers(carrier)

    def process_inbox(self, progress: Callable[[], None] | None = None) -> BatchReport:
        return self._inbox.run(progress)

    def approve(self, approval_id: int) -> Answer:
        return self._answers.approve(approval_id)

    def reject(self, approval_id: int, note: str | None = None) -> Answer:
        return self._answers.reject(approval_id, note)

    def undo(self, record_id: int) -> Answer:
        return self._answers.undo(record_id)
