"""The application façade: the one door through which the tray, its windows, the CLI and the
local socket reach the app. Plain calls on the parts the composition root built; every change
made through it (or by a background poll) is announced to subscribers, so what the person sees
follows at once."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from skytwin_desktop import words
from skytwin_desktop.clock import Clock, iso_utc
from skytwin_desktop.config import Config
from skytwin_desktop.connectors.service import ConnectorService
from skytwin_desktop.domain import (
    ActionState,
    ApprovalStatus,
    Connector,
    HealthStatus,
    TrustTier,
    Urgency,
)
from skytwin_desktop.errors import InputError
from skytwin_desktop.outcomes import Answer, BatchReport, PollReport
from skytwin_desktop.status import SignInWait, StatusReport
from skytwin_desktop.store import policy, users
from skytwin_desktop.store.approvals import pending as pending_approvals
from skytwin_desktop.store.database import Sessions, driver_connection
from skytwin_desktop.store.erase import erase_person
from skytwin_desktop.store.health import health_by_connector
from skytwin_desktop.store.migrate import MigrationResult
from skytwin_desktop.store.models import ActionRecord, Approval, DecisionLogEntry
from skytwin_desktop.store.retention import forget_old_history
from skytwin_desktop.store.settings import apply_setting, read_settings
from skytwin_desktop.store.status import read_status
from skytwin_desktop.twin.gate import PolicyGate
from skytwin_desktop.twin.pipeline import Twin
from skytwin_desktop.twin.steps import UNDOABLE

log = logging.getLogger(__name__)


@dataclass
class AppContext:
    config: Config
    engine: Engine
    sessions: Sessions
    user_id: int
    clock: Clock
    log_path: Path
    migration: MigrationResult
    gate: PolicyGate
    """The policy evaluator with the decision log: every action is judged here."""
    connectors: ConnectorService
    twin: Twin
    """Turns signals into actions, and carries out what the policy or the person allows."""

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A write transaction: committed on success, rolled back on error."""
        with self.sessions.write() as session:
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A read-only transaction, which never waits behind a writer."""
        with self.sessions.read() as session:
            yield session

    def close(self) -> None:
        self.connectors.close()
        self.engine.dispose()


@dataclass(frozen=True)
class AppPaths:
    data_dir: Path
    database: Path
    log_dir: Path


@dataclass(frozen=True)
class Change:
    """Something the person may see changed. `batch` is set after a twin pass (for the one
    notification per batch of new approvals)."""

    what: str
    batch: BatchReport | None = None
    poll: PollReport | None = None


def parse_tier(name: str) -> TrustTier:
    wanted = " ".join(name.replace("-", "_").split()).lower()
    for tier in TrustTier:
        if wanted in (tier.value, tier.label.lower()):
            return tier
    choices = ", ".join(f"{tier.value} ({tier.label})" for tier in TrustTier)
    raise InputError(f"Unknown trust tier {name!r}; choose one of: {choices}.")


@dataclass(frozen=True)
class PendingItem:
    """An approval as the approvals window and `approvals list` show it (plain data, no Qt)."""

    id: int
    kind: str
    target: str
    reason: str
    decided_by: str
    confirmation: str
    expires_at: datetime
    status: str = ApprovalStatus.PENDING.value
    urgency: str = Urgency.NORMAL.value
    explanation: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "target": self.target, "status": self.status,
                "reason": self.reason, "urgency": self.urgency, "expires_at": iso_utc(self.expires_at),
                "decided_by": self.decided_by, "confirmation": self.confirmation, "explanation": self.explanation}


@dataclass(frozen=True)
class ActivityItem:
    """One decision and what came of it: the answer to "what did my twin do, and why?"."""

    at: datetime
    kind: str
    target: str
    outcome: str
    why: str
    id: int = 0
    decided_by: str = ""
    action_id: int | None = None
    """The action record, when the decision let it run (what `undo` takes)."""
    undoable: bool = False
    explanation: str = ""
    """The twin's own reason for proposing it."""

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "at": iso_utc(self.at), "kind": self.kind, "target": self.target,
                "outcome": self.outcome, "why": self.why, "decided_by": self.decided_by,
                "action_id": self.action_id, "undoable": self.undoable, "explanation": self.explanation}


def _explanation(stored: object) -> str:
    """The proposer's reason, from an approval's or action record's stored action."""
    action = stored.get("action") if isinstance(stored, dict) else None
    return str(action.get("explanation", "")) if isinstance(action, dict) else ""


def _pending_item(row: Approval, now: datetime | None = None) -> PendingItem:
    """`now`: show an unanswered approval past its time as expired (expiry is written by the twin's pass)."""
    status = row.status
    if now is not None and status == ApprovalStatus.PENDING.value and row.expires_at <= now:
        status = ApprovalStatus.EXPIRED.value
    return PendingItem(row.id, row.action_kind, row.target, row.reason, row.decided_by, row.confirmation,
                       row.expires_at, status, row.urgency, _explanation(row.action))


_APPROVAL_OUTCOME = {ApprovalStatus.PENDING.value: "waiting for you",
                     ApprovalStatus.APPROVED.value: "you approved it",
                     ApprovalStatus.REJECTED.value: "you rejected it",
                     ApprovalStatus.EXPIRED.value: "expired unanswered"}


def _outcome(entry: DecisionLogEntry, record: ActionRecord | None, approval: Approval | None, now: datetime) -> str:
    if record is not None:
        state = words.action_state(record.state)
        quiet = (ActionState.QUEUED.value, ActionState.REFUSED.value)
        return f"{state}: {record.detail}" if record.detail and record.state not in quiet else state
    if not entry.allowed:
        return "refused"
    if entry.requires_approval:
        return "asked you; " + (_APPROVAL_OUTCOME[_pending_item(approval, now).status] if approval else "not queued")
    return "allowed to run by itself"


class Intents:
    """Every door's way in. Methods that reach Google (connect, poll, approve, undo, delete) must
    not run on the GUI thread; the windows call them through a background worker."""

    def __init__(self, context: AppContext, on_close: Callable[[], None] | None = None) -> None:
        self.context = context
        self._on_close = on_close
        self._subscribers: list[Callable[[Change], None]] = []
        self.running = False
        """True in the running app (the tray): only then is anything being read."""
        self.demo = False
        """True against the built-in Google sandbox (`--demo`)."""
        self.desktop: Any = None
        """What only the running GUI knows (its Qt platform, tray), for `diagnose`; set by the tray."""
        self._lock = threading.Lock()
        self._history_kept_on: date | None = None
        """The day old history was last forgotten (see `_keep_history_bounded`)."""
        self._sign_ins: dict[Connector, tuple[SignInWait, threading.Event]] = {}
        """Sign-ins waiting for the person in the browser, with what cancels each."""

    # --- announcing changes ---------------------------------------------------------------
    def subscribe(self, callback: Callable[[Change], None]) -> None:
        """`callback(change)` after every change, from whichever thread made it."""
        with self._lock:
            self._subscribers.append(callback)

    def _changed(self, what: str, *, batch: BatchReport | None = None, poll: PollReport | None = None) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        change = Change(what, batch, poll)
        for callback in subscribers:
            try:
                callback(change)
            except Exception:  # a subscriber's fault must not undo the change
                log.exception("A subscriber failed on %s", what)

    @property
    def paths(self) -> AppPaths:
        config = self.context.config
        return AppPaths(config.data_dir, config.database_path, config.log_dir)

    @property
    def keyring_backend(self) -> object:
        """The back-end the token store uses (its name for diagnostics; never a value). Raises
        KeyringUnavailable when there is none."""
        return self.context.connectors.tokens.backend

    @property
    def poll_interval(self) -> int:
        return self.context.config.poll_interval

    @property
    def stopping(self) -> threading.Event:
        """Set when the app quits: no new request to Google starts."""
        return self.context.connectors.stopping

    def close(self) -> None:
        try:
            self.context.close()
        finally:
            if self._on_close is not None:
                self._on_close()

    def check_store(self) -> None:
        """Raise the store's error (its file deleted or replaced, say) if it cannot be used now."""
        with self.context.reading() as session:
            session.execute(select(1))

    # --- state ------------------------------------------------------------------------------
    def now(self) -> datetime:
        """The app's clock: what the windows word their times from ("3 min ago")."""
        return self.context.clock()

    def connected(self) -> set[Connector]:
        """The services with a working sign-in: the ones worth polling. One small read (it runs
        after every poll), not the whole status report."""
        with self.context.reading() as session:
            rows = health_by_connector(session, self.context.user_id)
        return {name for name, row in rows.items() if row.status == HealthStatus.CONNECTED.value}

    def report(self) -> StatusReport:
        context = self.context
        with context.reading() as session:
            report = read_status(driver_connection(session), context.user_id,
                                 operator_paused=context.config.auto_execute_disabled, now=context.clock(),
                                 running=self.running)
        with self._lock:
            waits = tuple(wait for wait, _ in self._sign_ins.values())
        return replace(report, signing_in=waits) if waits else report

    def migration(self) -> MigrationResult:
        """What `migrate` reports: the schema before and after this start, and the copy made first."""
        return self.context.migration

    def set_pause(self, paused: bool, reason: str | None) -> None:
        """Effective for the very next decision: the settings revision moves with it."""
        with self.context.session() as session:
            if paused:
                users.pause(session, self.context.user_id, now=self.context.clock(), reason=reason)
            else:
                users.resume(session, self.context.user_id)
        self._changed("pause")

    def settings(self) -> dict[str, Any]:
        with self.context.reading() as session:
            return read_settings(session, self.context.user_id)

    def save_setting(self, key: str, value: Any) -> None:
        with self.context.session() as session:
            apply_setting(session, self.context.user_id, key, value, now=self.context.clock())
        self._changed("settings")

    def rules(self) -> list[dict[str, Any]]:
        with self.context.reading() as session:
            return [{"id": row.id, "name": row.name, "priority": row.priority, "effect": row.effect,
                     "conditions": list(row.conditions)} for row in policy.list_rules(session, self.context.user_id)]

    def save_rule(self, rule_id: int | None, name: str, conditions: list[dict[str, Any]], effect: str) -> None:
        with self.context.session() as session:
            if rule_id is None:
                policy.add_rule(session, self.context.user_id, conditions=conditions, effect=effect, name=name)
            else:
                policy.update_rule(session, self.context.user_id, rule_id, conditions=conditions, effect=effect,
                                   name=name)
        self._changed("rules")

    def delete_rule(self, rule_id: int) -> None:
        with self.context.session() as session:
            policy.delete_rule(session, self.context.user_id, rule_id)
        self._changed("rules")

    def move_rule(self, rule_id: int, steps: int) -> None:
        with self.context.session() as session:
            policy.move_rule(session, self.context.user_id, rule_id, steps)
        self._changed("rules")

    # --- approvals and activity (the approvals window's source) ----------------------------
    def pending(self) -> list[PendingItem]:
        """Unanswered approvals still in time (a read: those past their time are simply not shown)."""
        with self.context.reading() as session:
            rows = pending_approvals(session, self.context.user_id, self.context.clock())
            return [_pending_item(row) for row in rows]

    def approvals(self, *, include_answered: bool = False, limit: int = 200) -> list[PendingItem]:
        """Pending approvals, soonest to expire first; or every approval, newest first."""
        if not include_answered:
            return self.pending()
        now = self.context.clock()
        with self.context.reading() as session:
            rows = session.scalars(select(Approval).where(Approval.user_id == self.context.user_id)
                                   .order_by(Approval.id.desc()).limit(limit))
            return [_pending_item(row, now) for row in rows]

    def activity(self, limit: int = 100) -> list[ActivityItem]:
        user_id, now = self.context.user_id, self.context.clock()
        with self.context.reading() as session:
            entries = list(session.scalars(select(DecisionLogEntry).where(DecisionLogEntry.user_id == user_id)
                                           .order_by(DecisionLogEntry.id.desc()).limit(limit)))
            ids = [entry.id for entry in entries]
            keys = {entry.action_key for entry in entries if entry.action_key}
            records = {row.decision_id: row for row in session.scalars(
                select(ActionRecord).where(ActionRecord.user_id == user_id, ActionRecord.decision_id.in_(ids)))}
            queued = {row.action_key: row for row in session.scalars(
                select(Approval).where(Approval.user_id == user_id, Approval.action_key.in_(keys)))}
            items = []
            for entry in entries:
                record = records.get(entry.id)
                approval = queued.get(entry.action_key or "")
                stored = record.action if record else approval.action if approval else None
                items.append(ActivityItem(
                    entry.decided_at, entry.action_kind, entry.target, _outcome(entry, record, approval, now),
                    entry.message, entry.id, entry.decided_by, record.id if record else None,
                    bool(record and record.state == ActionState.DONE.value and record.action_kind in UNDOABLE),
                    _explanation(stored)))
            return items

    def approve(self, approval_id: int) -> Answer:
        """Approve and carry out: network work, so the windows call it off the GUI thread."""
        try:
            return self.context.twin.approve(approval_id)
        finally:
            self._changed("approvals")

    def reject(self, approval_id: int, note: str | None) -> Answer:
        try:
            return self.context.twin.reject(approval_id, note)
        finally:
            self._changed("approvals")

    def undo(self, action_id: int) -> Answer:
        """Network work too: off the GUI thread."""
        try:
            return self.context.twin.undo(action_id)
        finally:
            self._changed("activity")

    def tier(self) -> TrustTier:
        with self.context.reading() as session:
            return TrustTier(policy.current_tier(session, self.context.user_id))

    def set_tier(self, name: str) -> str:
        """The person's explicit choice, by name ("low_autonomy") or label ("Handle small stuff")."""
        tier = parse_tier(name)
        with self.context.session() as session:
            change = policy.set_tier(session, self.context.user_id, tier, reason="chosen by you", by_person=True,
                                     now=self.context.clock())
        self._changed("tier")
        if change is None:
            return f"Trust tier is already {tier.label}."
        return f"Trust tier changed from {words.tier(change.old)} to {tier.label}."

    def delete_all(self) -> dict[str, int]:
        """Network (revoking) and database work: call it off the GUI thread."""
        try:
            self.context.connectors.forget_all()
            with self.context.session() as session:
                return erase_person(session, self.context.user_id)
        finally:
            self._changed("everything")

    # --- Google -------------------------------------------------------------------------------
    def connect(self, connector: Connector, tell: Callable[[str], None] | None = None) -> PollReport:
        """Sign in through the browser, then poll at once (network, and it waits for the person).
        `tell` gets the sign-in address and how long it waits; while it waits, the report says so
        (with the address) and `cancel_sign_in` ends it."""
        connector = Connector(connector)
        cancel = threading.Event()

        def waiting(url: str, seconds: int) -> None:
            wait = SignInWait(connector, url, self.context.clock() + timedelta(seconds=seconds))
            with self._lock:
                previous = self._sign_ins.get(connector)
                self._sign_ins[connector] = (wait, cancel)
            if previous is not None:
                previous[1].set()  # a second Connect replaces the first: one waiting page per service
            self._changed("sign-in")

        try:
            report = self.context.connectors.connect(connector, tell, waiting=waiting, cancel=cancel)
        finally:
            with self._lock:
                if self._sign_ins.get(connector, (None, None))[1] is cancel:
                    del self._sign_ins[connector]
            self._changed("connector")
        return report

    def cancel_sign_in(self, connector: Connector) -> bool:
        """End a sign-in that waits for the person; False when none waits."""
        with self._lock:
            entry = self._sign_ins.get(Connector(connector))
        if entry is None:
            return False
        entry[1].set()
        return True

    def disconnect(self, connector: Connector) -> str:
        try:
            return self.context.connectors.disconnect(Connector(connector))
        finally:
            self._changed("connector")

    def poll(self, connector: Connector) -> PollReport:
        """One poll of one service; its result is announced before the twin works on it."""
        report = self.context.connectors.poll(Connector(connector))
        self._changed("poll", poll=report)
        return report

    def process_inbox(self) -> BatchReport:
        """The twin's pass over everything polls brought in (network: actions run at Google)."""
        batch = self.context.twin.process_inbox(progress=lambda: self._changed("twin"))
        self._changed("batch", batch=batch)
        self._keep_history_bounded()
        return batch

    def _keep_history_bounded(self) -> None:
        """Forget history older than the person keeps, at the first pass of each day: no timer of
        its own, and a day's growth at most beyond the setting."""
        now = self.context.clock()
        if self._history_kept_on == now.date():
            return
        with self.context.session() as session:
            removed = forget_old_history(session, self.context.user_id, now)
        self._history_kept_on = now.date()
        if any(removed.values()):
            log.info("Forgot history older than the person keeps: %s", removed)
            self._changed("history")

    def poll_once(self) -> tuple[list[PollReport], BatchReport]:
        reports = [self.poll(connector) for connector in Connector]
        return reports, self.process_inbox()
