"""A snapshot of what the twin is doing, for `skytwin-desktop status` and the tray: plain data and
its words (the store fills it in: `store.status.read_status`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from skytwin_desktop import words
from skytwin_desktop.clock import iso_utc, utc_now
from skytwin_desktop.domain import COMMAND_NAME, Connector, HealthStatus, ReadProblem


@dataclass(frozen=True)
class ConnectorState:
    status: HealthStatus
    error_code: str | None = None
    last_success_at: datetime | None = None
    last_failure_at: datetime | None = None
    problem: ReadProblem | None = None
    """Why a connected service is not being read right now."""
    problem_text: str | None = None
    failing_since: datetime | None = None
    retry_at: datetime | None = None
    set_aside: int = 0
    """Items of this service that could not be read, stored or judged (the rest flows on)."""

    @property
    def reading(self) -> bool:
        """True only while the twin can read this service: connected, and its last read worked."""
        return self.status is HealthStatus.CONNECTED and self.problem is None

    @property
    def not_reading(self) -> bool:
        """Connected, yet not being read: the state the tray must never call "listening"."""
        return self.status is HealthStatus.CONNECTED and self.problem is not None


@dataclass(frozen=True)
class SetAsideEntry:
    connector: Connector
    item_id: str
    subject: str
    sender: str
    reason: str
    stage: str
    at: datetime

    def to_json(self) -> dict[str, Any]:
        return {"connector": self.connector.value, "item_id": self.item_id, "subject": self.subject,
                "sender": self.sender, "reason": self.reason, "stage": self.stage, "at": iso_utc(self.at)}

    def describe(self) -> str:
        subject = f'"{self.subject}"' if self.subject else "an item"
        sender = f" from {self.sender}" if self.sender else ""
        return f"{self.connector.display_name}: {subject}{sender}: {self.reason} (while {words.stage(self.stage)})"


@dataclass(frozen=True)
class SignInWait:
    """A sign-in waiting for the person in the browser (held by the running app, not stored)."""

    connector: Connector
    url: str
    until: datetime

    def to_json(self) -> dict[str, Any]:
        return {"connector": self.connector.value, "url": self.url, "until": iso_utc(self.until)}


@dataclass(frozen=True)
class StatusReport:
    user_id: int
    email: str | None
    trust_tier: str
    operator_paused: bool
    user_paused: bool
    paused_at: datetime | None
    paused_reason: str | None
    connectors: dict[Connector, ConnectorState]
    pending_approvals: int
    set_aside: tuple[SetAsideEntry, ...] = ()
    """The newest items set aside, newest first."""
    running: bool = True
    """Whether the app is running (the tray, polling). A command run with no app running says
    so: then nothing is being read, whatever the connectors' health."""
    at: datetime | None = None
    """When it was read (relative times are worded from here); None: now."""
    signing_in: tuple[SignInWait, ...] = ()

    @property
    def now(self) -> datetime:
        return self.at or utc_now()

    @property
    def needs_reauth(self) -> tuple[Connector, ...]:
        """The connectors the person must reconnect, in a stable order."""
        return tuple(name for name, state in self.connectors.items() if state.status is HealthStatus.NEEDS_REAUTH)

    @property
    def not_reading(self) -> tuple[Connector, ...]:
        """Connected services that are not being read right now, in a stable order."""
        return tuple(name for name, state in self.connectors.items() if state.not_reading)

    @property
    def nothing_connected(self) -> bool:
        """No service was ever connected (or all were disconnected): the first-run state."""
        return all(state.status is HealthStatus.DISABLED for state in self.connectors.values())

    def sign_in_for(self, connector: Connector) -> SignInWait | None:
        """The sign-in waiting in the browser for `connector`, if one does."""
        return next((wait for wait in self.signing_in if wait.connector is connector), None)

    @property
    def any_needs_reauth(self) -> bool:
        return bool(self.needs_reauth)

    def to_json(self) -> dict[str, Any]:
        return {
            "user": {"id": self.user_id, "email": self.email, "trust_tier": self.trust_tier},
            "pause": {
                "operator": self.operator_paused,
                "user": self.user_paused,
                "paused_at": iso_utc(self.paused_at),
                "reason": self.paused_reason,
            },
            "connectors": {
                name.value: {
                    "status": state.status.value,
                    "error_code": state.error_code,
                    "last_success_at": iso_utc(state.last_success_at),
                    "last_failure_at": iso_utc(state.last_failure_at),
                    "reading": self.running and state.reading,
                    "problem": ({"code": state.problem.value, "text": state.problem_text}
                                if state.problem is not None else None),
                    "failing_since": iso_utc(state.failing_since),
                    "retry_at": iso_utc(state.retry_at),
                    "set_aside": state.set_aside,
                }
                for name, state in self.connectors.items()
            },
            "any_needs_reauth": self.any_needs_reauth,
            "pending_approvals": self.pending_approvals,
            "set_aside": [entry.to_json() for entry in self.set_aside],
            "running": self.running,
            "signing_in": [wait.to_json() for wait in self.signing_in],
        }


def format_report(report: StatusReport) -> str:
    """The readable table `skytwin-desktop status` prints: words and local times (JSON keeps codes)."""
    now = report.now
    lines = [
        f"Person       {report.email or '(no Google account connected yet)'}",
        f"Trust tier   {words.tier(report.trust_tier)}",
        f"Auto-execute {pause_line(report)}",
        f"Approvals    {report.pending_approvals} waiting for you",
        *([] if report.running
          else [f"Running      no: nothing is read or done until you start it ('{COMMAND_NAME}')"]),
        "",
        f"{'Service':<10} {'State':<20} {'Last read':<20} {'Last failure':<20} Why",
    ]
    waiting = {wait.connector for wait in report.signing_in}
    for name, state in report.connectors.items():
        shown = "signing in…" if name in waiting else words.status(state.status)
        lines.append(
            f"{name.display_name:<10} {shown:<20} {words.when(state.last_success_at, now):<20} "
            f"{words.when(state.last_failure_at, now):<20} {words.failure(state.error_code) or '-'}"
        )
        if state.not_reading:
            lines.append(f"  {reading_line(name, state, now)}")
    if report.set_aside:
        lines += ["", "Set aside (could not be read, stored or judged; everything else goes on):"]
        lines += [f"  {entry.describe()}" for entry in report.set_aside]
    return "\n".join(lines)


def reading_line(connector: Connector, state: ConnectorState, now: datetime) -> str:
    """"Not reading Gmail since …: why (trying again …)", for a connected service that is not being read."""
    since = f" {words.since(state.failing_since, now)}" if state.failing_since else ""
    retry = f" (trying again {words.when(state.retry_at, now)})" if state.retry_at else ""
    return f"Not reading {connector.display_name}{since}: {state.problem_text or 'it could not be read'}{retry}"


def pause_line(report: StatusReport) -> str:
    parts = []
    if report.operator_paused:
        parts.append("PAUSED by the administrator (SKYTWIN_AUTO_EXECUTE_DISABLED)")
    if report.user_paused:
        since = f" {words.when(report.paused_at, report.now)}" if report.paused_at else ""
        reason = f' - "{report.paused_reason}"' if report.paused_reason else ""
        parts.append(f"PAUSED by you{since}{reason}")
    return "; ".join(parts) if parts else "on (actions your settings allow run by themselves)"
