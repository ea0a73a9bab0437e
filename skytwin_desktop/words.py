"""The words people read for the app's internal codes, and its one style of time.

Every code the store, the policy and the connectors use (a status, a failure, a tier, a check, a
kind) has a short phrase here; the windows, the tray and the CLI's human output show only these.
JSON output keeps the codes and ISO-8601 UTC times: that is for programs. Pure: no Qt.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, tzinfo
from typing import Any

from skytwin_desktop.domain import (
    TRUST_TIER_LABELS,
    ActionKind,
    ActionState,
    ApprovalStatus,
    Confirmation,
    HealthStatus,
    ReadProblem,
    SetAsideStage,
    TrustTier,
    Urgency,
    undone_kind,
)
from skytwin_desktop.outcomes import PollOutcome

STATUS = {
    HealthStatus.CONNECTED: "connected",
    HealthStatus.NEEDS_REAUTH: "needs reconnecting",
    HealthStatus.DISABLED: "not connected",
}
POLL_OUTCOME = {
    PollOutcome.OK: "read",
    PollOutcome.NOT_CONNECTED: "not connected",
    PollOutcome.NEEDS_REAUTH: "needs reconnecting",
    PollOutcome.BACKING_OFF: "waiting before trying again",
    PollOutcome.TRANSIENT_FAILURE: "could not be read this time",
    PollOutcome.PERMANENT_FAILURE: "Google refused; it needs reconnecting",
    PollOutcome.KEYRING_ERROR: "the keyring could not be opened",
    PollOutcome.CANCELLED: "stopped because SkyTwin is quitting",
}
FAILURE = {
    "invalid_grant": "Google access was revoked or expired",
    "invalid_credentials": "Google no longer accepts the sign-in",
    "fresh_token_refused": "Google refused a freshly renewed sign-in for now",
    "unauthorized_client": "the app's Google sign-in is misconfigured",
    "invalid_client": "the app's Google sign-in is misconfigured",
    "insufficient_scope": "SkyTwin is missing a Google permission",
    "network_error": "Google could not be reached",
    "timeout": "Google did not answer in time",
    "rate_limited": "Google asked SkyTwin to slow down",
    "internal_error": "a fault in SkyTwin (the log has the details)",
    "keyring_unavailable": "the keyring could not be opened",
    "token_missing": "its saved sign-in is no longer in the keyring",
    "temporarily_unavailable": "Google is briefly unavailable",
    "server_error": "Google had an error",
    "malformed_response": "Google's answer had an unexpected shape",
}
GENERIC_FAILURE = "Google sign-in stopped working"
"""Why a service needs reconnecting when no reason was kept."""
UNKNOWN_FAILURE = "Google answered with an error"
"""A code from Google we have no words for (a new `error` in a token answer)."""
READ_PROBLEM = {
    ReadProblem.UNREACHABLE: "Google is unreachable",
    ReadProblem.GOOGLE_ERRORS: "Google answers with errors",
    ReadProblem.KEYRING_LOCKED: "the keyring is locked",
    ReadProblem.KEYRING_MISSING: "no keyring to read the sign-in from",
    ReadProblem.INTERNAL_ERROR: "a fault in SkyTwin",
}
CHECK = {  # which of the policy's checks decided (policy.model.Check's values)
    "tier": "your trust tier",
    "injection": "a message that tries to give your twin orders",
    "settings": "your autonomy settings",
    "quiet_hours": "your quiet hours",
    "rules": "one of your rules",
    "kill_switch": "the pause",
    "default": "what your twin may do on its own",
}
KIND = {
    ActionKind.ARCHIVE_EMAIL: "Archive an email",
    ActionKind.LABEL_EMAIL: "Label an email",
    ActionKind.ESCALATE_TO_USER: "Bring to your attention",
    ActionKind.ACCEPT_INVITE: "Accept an invitation",
    ActionKind.TENTATIVE_ACCEPT: "Answer an invitation with maybe",
    ActionKind.DECLINE_INVITE: "Decline an invitation",
}
APPROVAL_STATUS = {
    ApprovalStatus.PENDING: "waiting for you",
    ApprovalStatus.APPROVED: "approved",
    ApprovalStatus.REJECTED: "rejected",
    ApprovalStatus.EXPIRED: "expired unanswered",
}
ACTION_STATE = {
    ActionState.STARTED: "in progress",
    ActionState.DONE: "done",
    ActionState.FAILED: "failed",
    ActionState.QUEUED: "sent to Approvals instead",
    ActionState.REFUSED: "refused when judged again",
    ActionState.UNDOING: "being undone",
    ActionState.UNDONE: "undone",
}
URGENCY = {Urgency.IMMEDIATE: "urgent", Urgency.NORMAL: "normal", Urgency.LOW: "low priority"}
CONFIRMATION = {Confirmation.NONE: "no confirmation", Confirmation.SINGLE: "one confirmation",
                Confirmation.DUAL: "two confirmations"}
STAGE = {SetAsideStage.READ: "reading it", SetAsideStage.STORE: "storing it", SetAsideStage.JUDGE: "judging it"}
TIER: dict[TrustTier, str] = TRUST_TIER_LABELS

RULE_FIELD = {"kind": "the action", "target": "its target", "key": "its key", "domain": "the sender's domain",
              "provenance": "where it came from", "reversible": "it can be undone", "spend": "the money spent",
              "explanation": "the twin's reason", "risk": "the risk"}
OPERATOR = {"eq": "is", "neq": "is not", "gt": "is above", "gte": "is at least", "lt": "is below",
            "lte": "is at most", "in": "is one of", "not_in": "is none of", "contains": "contains"}
EFFECT = {"deny": "never do it", "require_approval": "ask me first", "allow": "go ahead"}

_HTTP = re.compile(r"http_(\d{3})")


def _look(table: Mapping[Any, str], code: object, fallback: str) -> str:
    try:
        return table[code]
    except (KeyError, TypeError):
        return fallback


def status(code: str) -> str:
    return _look(STATUS, code, "in an unknown state")


def outcome(code: str) -> str:
    return _look(POLL_OUTCOME, code, "could not be read")


def failure(code: str | None) -> str:
    """A failure code from Google or from SkyTwin (`http_503` too), in words."""
    if not code:
        return ""
    match = _HTTP.fullmatch(code)
    if match:
        return f"Google answered with an error ({match.group(1)})"
    return FAILURE.get(code, UNKNOWN_FAILURE)


def read_problem(code: ReadProblem | str | None) -> str:
    return _look(READ_PROBLEM, code, "it cannot be read") if code else ""


def check(code: str) -> str:
    return _look(CHECK, code, "the twin's policy")


def kind(code: str) -> str:
    """"Archive an email"; an undo is "Undo: archive an email"."""
    undone = undone_kind(code)
    if undone is not None:
        inner = kind(undone)
        return f"Undo: {inner[:1].lower()}{inner[1:]}"
    return _look(KIND, code, "An action")


def approval_status(code: str) -> str:
    return _look(APPROVAL_STATUS, code, "unknown")


def action_state(code: str) -> str:
    return _look(ACTION_STATE, code, "unknown")


def urgency(code: str) -> str:
    return _look(URGENCY, code, "normal")


def tier(code: str) -> str:
    return _look(TIER, code, "an unknown tier (nothing runs by itself)")


def stage(code: str) -> str:
    return _look(STAGE, code, "handling it")


def rule_condition(field: str, operator: str, value: object) -> str:
    """"the action is Archive an email", "the risk is at least moderate": one condition of a rule."""
    if field.startswith("risk."):
        subject = f"the {field.removeprefix('risk.')} risk"
    elif field.startswith("param."):
        subject = f"the action's {field.removeprefix('param.')}"
    else:
        subject = RULE_FIELD.get(field, field)
    values = value if isinstance(value, list) else [value]
    shown = [kind(str(v)) if field == "kind" else str(v) for v in values]
    return f"{subject} {OPERATOR.get(operator, operator)} {', '.join(shown)}"


def effect(code: str) -> str:
    return _look(EFFECT, code, code)


# --- time -----------------------------------------------------------------------------------
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_NEAR = timedelta(seconds=45)
_RELATIVE = timedelta(minutes=60)


def _clock_24h(moment: datetime) -> str:
    return f"{moment:%H:%M}"


_clock_text: Callable[[datetime], str] = _clock_24h


def use_clock_format(text: Callable[[datetime], str]) -> None:
    """The time of day as the person's locale writes it (the GUI passes Qt's); 24-hour by default."""
    global _clock_text
    _clock_text = text


def when(moment: datetime | None, now: datetime, zone: tzinfo | None = None, never: str = "never") -> str:
    """One style for every time a person reads: "just now", "12 min ago", "in 5 min" when near;
    otherwise "today 14:05", "yesterday 09:12", "tomorrow 08:00", "Tue 14:05", "3 Dec 14:05",
    "3 Dec 2025 14:05", in the person's zone (`zone`, else the machine's)."""
    if moment is None:
        return never
    delta = moment - now
    if abs(delta) < _NEAR:
        return "just now" if delta <= timedelta(0) else "in a moment"
    if abs(delta) < _RELATIVE:
        minutes = max(1, round(abs(delta).total_seconds() / 60))
        return f"{minutes} min ago" if delta < timedelta(0) else f"in {minutes} min"
    local, today = moment.astimezone(zone), now.astimezone(zone)
    days = (local.date() - today.date()).days
    clock = _clock_text(local)
    if days == 0:
        return f"today {clock}"
    if days == -1:
        return f"yesterday {clock}"
    if days == 1:
        return f"tomorrow {clock}"
    if -6 <= days <= 6:
        return f"{_DAYS[local.weekday()]} {clock}"
    year = f" {local.year}" if local.year != today.year else ""
    return f"{local.day} {_MONTHS[local.month - 1]}{year} {clock}"


def date_time(moment: datetime, zone: tzinfo | None = None) -> str:
    """"Sat 5 Dec 11:30": a moment written out whole, for text that is kept (an approval's target)."""
    local = moment.astimezone(zone)
    return f"{_DAYS[local.weekday()]} {local.day} {_MONTHS[local.month - 1]} {_clock_text(local)}"


def since(moment: datetime, now: datetime, zone: tzinfo | None = None) -> str:
    """"for 12 min" when near, else "since yesterday 09:12": how long a state has lasted."""
    delta = now - moment
    if timedelta(0) <= delta < _RELATIVE:
        return "for a moment" if delta < _NEAR else f"for {max(1, round(delta.total_seconds() / 60))} min"
    return f"since {when(moment, now, zone)}"
