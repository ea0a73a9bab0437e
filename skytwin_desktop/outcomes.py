"""What the app's work comes back as: plain results that cross from the services to the façade,
the CLI, the socket and the tray (no Qt, no SQL, no network)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from skytwin_desktop.domain import Connector


class PollOutcome(StrEnum):
    OK = "ok"
    NOT_CONNECTED = "not_connected"
    NEEDS_REAUTH = "needs_reauth"
    """Skipped: the person must reconnect first (no request is made)."""
    BACKING_OFF = "backing_off"
    TRANSIENT_FAILURE = "transient_failure"
    PERMANENT_FAILURE = "permanent_failure"
    KEYRING_ERROR = "keyring_error"
    CANCELLED = "cancelled"
    """The app is quitting; nothing was recorded and the next start polls again."""


@dataclass(frozen=True)
class PollReport:
    connector: Connector
    outcome: PollOutcome
    signals: int = 0
    error_code: str | None = None
    detail: str = ""

    @property
    def succeeded(self) -> bool:
        return self.outcome is PollOutcome.OK


@dataclass
class BatchReport:
    """What one pass over the inbox did, for the tray (one notification per pass, not per action)."""

    signals: int = 0
    proposed: int = 0
    executed: int = 0
    queued: int = 0
    denied: int = 0
    failed: int = 0
    resolved: int = 0
    queued_targets: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CycleReport:
    poll: PollReport
    batch: BatchReport | None = None
    """What the twin did with the inbox afterwards (None when there was no twin to run)."""


@dataclass(frozen=True)
class Answer:
    """The outcome of the person's request, in words; `ok` when it is done (or on its way: a
    second confirmation is now expected)."""

    ok: bool
    message: str
    action_id: int | None = None
    """The action record it made, when one can be undone: the number `undo` takes."""

    def __str__(self) -> str:
        return self.message
