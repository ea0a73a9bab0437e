"""The small vocabularies shared by the core, the store and the UI.

Kept in one place so the database CHECK constraints, the policy code and the CLI can never
disagree about which words are valid.
"""

from __future__ import annotations

from enum import StrEnum

COMMAND_NAME = "skytwin-desktop"
"""The app's name for machines: the command, its data folder, launcher file and icon."""
APP_TITLE = "SkyTwin Desktop"
"""The app's name for people: windows, notifications, the login entry."""


class TrustTier(StrEnum):
    """How much the person lets the twin do without asking, lowest first."""

    OBSERVER = "observer"
    SUGGEST = "suggest"
    LOW_AUTONOMY = "low_autonomy"
    MODERATE_AUTONOMY = "moderate_autonomy"
    HIGH_AUTONOMY = "high_autonomy"

    @property
    def label(self) -> str:
        return TRUST_TIER_LABELS[self]


TRUST_TIER_LABELS: dict[TrustTier, str] = {
    TrustTier.OBSERVER: "Just watch",
    TrustTier.SUGGEST: "Ask me first",
    TrustTier.LOW_AUTONOMY: "Handle small stuff",
    TrustTier.MODERATE_AUTONOMY: "Handle most things",
    TrustTier.HIGH_AUTONOMY: "Full autopilot",
}


class Connector(StrEnum):
    """The Google services the twin reads; the names used in the CLI, JSON and database."""

    GMAIL = "gmail"
    CALENDAR = "calendar"

    @property
    def display_name(self) -> str:
        return {"gmail": "Gmail", "calendar": "Calendar"}[self.value]


class HealthStatus(StrEnum):
    """A connector's stored health. Anything but `connected` means the twin is not reading it."""

    CONNECTED = "connected"
    NEEDS_REAUTH = "needs_reauth"
    DISABLED = "disabled"


class ReadProblem(StrEnum):
    """Why a connected service is not being read right now (beside `HealthStatus`, which stays
    `connected`: the sign-in is fine, the reading is not)."""

    UNREACHABLE = "unreachable"
    """Google could not be reached (no network, a time-out)."""
    GOOGLE_ERRORS = "google_errors"
    """Google answers, but with errors (5xx, rate limits, answers of an unexpected shape)."""
    KEYRING_LOCKED = "keyring_locked"
    KEYRING_MISSING = "keyring_missing"
    INTERNAL_ERROR = "internal_error"
    """A fault of SkyTwin's own while reading; the log has the details."""


class SetAsideStage(StrEnum):
    """Where an item that could not be handled was stopped: reading it from Google, storing it,
    or judging it. Kept with its reason and tried again after an update."""

    READ = "read"
    STORE = "store"
    JUDGE = "judge"


class ApprovalStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"


class Urgency(StrEnum):
    """How soon an approval expires if the person does not answer it."""

    IMMEDIATE = "immediate"
    NORMAL = "normal"
    LOW = "low"


class Confirmation(StrEnum):
    """How many separate confirmations the person must give before an action runs."""

    NONE = "none"
    SINGLE = "single"
    DUAL = "dual"

    @property
    def rank(self) -> int:
        """0, 1 or 2: how many confirmations, to compare levels (the strings do not sort so)."""
        return _CONFIRMATION_RANK[self]


_CONFIRMATION_RANK = {Confirmation.NONE: 0, Confirmation.SINGLE: 1, Confirmation.DUAL: 2}


PAUSE_REASON_MAX = 500
"""Longest pause reason kept, in characters (enforced by the CLI, UI and database alike)."""
HISTORY_DAYS = 90
"""Days of activity history kept unless the person chooses otherwise (`HISTORY_DAY_CHOICES`)."""
HISTORY_DAY_CHOICES = (30, 90, 365, 3650)


class ActionKind(StrEnum):
    """What the twin can propose. Escalations only ask the person; the others change Google data."""

    ARCHIVE_EMAIL = "archive_email"
    LABEL_EMAIL = "label_email"
    ESCALATE_TO_USER = "escalate_to_user"
    ACCEPT_INVITE = "accept_invite"
    TENTATIVE_ACCEPT = "tentative_accept"
    DECLINE_INVITE = "decline_invite"


_UNDO = "undo_"


def undo_kind(kind: str) -> str:
    """The name the person's undo of an action of `kind` goes by: in the decision log, in the
    executor's table and in the words shown."""
    return _UNDO + kind


def undone_kind(name: str) -> str | None:
    """The kind of action an undo's `name` reverses; None when `name` is not an undo's."""
    return name[len(_UNDO):] if name.startswith(_UNDO) else None


class ActionState(StrEnum):
    """An action record's life. `started` is written before the call to Google, so a crash leaves a
    record that a restart resolves by looking at Google, never by blindly calling again."""

    STARTED = "started"
    DONE = "done"
    FAILED = "failed"
    QUEUED = "queued"
    """Not run after all (a pause arrived mid-batch): it went to Approvals."""
    REFUSED = "refused"
    """Not run after all: judged again (settings changed) and refused."""
    UNDOING = "undoing"
    """Being reversed; like `started`, resolved by looking at Google after a crash."""
    UNDONE = "undone"
