"""Reading the status report from the store, in plain SQL on a `sqlite3` connection.

Plain SQL so that one reader serves both doors: the running app reads inside its own session's
transaction (`database.driver_connection`), and `status` with no app running reads over a
read-only connection (`peek`) without loading SQLAlchemy, which is most of a command's start-up.
The table and column names are the models'; tests/test_status_read.py holds the two together.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any

from skytwin_desktop.domain import ApprovalStatus, Connector, HealthStatus, ReadProblem
from skytwin_desktop.errors import StoreError
from skytwin_desktop.status import ConnectorState, SetAsideEntry, StatusReport
from skytwin_desktop.store.sqlite_file import SCHEMA_HEAD, inspect_file, leaving_no_trace, open_read_only
from skytwin_desktop.store.stamps import from_text, to_text

SET_ASIDE_LISTED = 20
"""How many set-aside items the report names (newest first); all are counted."""


def read_status(db: sqlite3.Connection, user_id: int, *, operator_paused: bool, now: datetime,
                running: bool = True) -> StatusReport:
    """Gather the report. A connector never set up reads as `disabled`."""
    email, trust_tier = db.execute("SELECT email, trust_tier FROM users WHERE id = ?", (user_id,)).fetchone()
    pause = db.execute("SELECT paused, paused_at, paused_reason FROM autonomy_settings WHERE user_id = ?",
                       (user_id,)).fetchone() or (False, None, None)
    health = {row[0]: row[1:] for row in db.execute(
        "SELECT connector_name, status, error_code, last_success_at, last_failure_at FROM connector_health "
        "WHERE user_id = ?", (user_id,))}
    reading = {row[0]: row[1:] for row in db.execute(
        "SELECT connector_name, problem, detail, failing_since, retry_at FROM connector_reading WHERE user_id = ?",
        (user_id,))}
    kept = dict(db.execute("SELECT connector_name, count(*) FROM set_aside WHERE user_id = ? GROUP BY connector_name",
                           (user_id,)).fetchall())
    (pending,) = db.execute("SELECT count(*) FROM approvals WHERE user_id = ? AND status = ? AND expires_at > ?",
                            (user_id, ApprovalStatus.PENDING.value, to_text(now))).fetchone()
    listed = db.execute("SELECT connector_name, item_id, subject, sender, reason, stage, set_aside_at FROM set_aside "
                        "WHERE user_id = ? ORDER BY id DESC LIMIT ?", (user_id, SET_ASIDE_LISTED)).fetchall()
    return StatusReport(
        user_id=user_id,
        email=email,
        trust_tier=trust_tier,
        operator_paused=operator_paused,
        user_paused=bool(pause[0]),
        paused_at=from_text(pause[1]),
        paused_reason=pause[2],
        connectors={name: _connector_state(health.get(name.value), reading.get(name.value), kept.get(name.value, 0))
                    for name in Connector},
        pending_approvals=pending,
        running=running,
        at=now,
        set_aside=tuple(SetAsideEntry(Connector(name), item_id, subject, sender, reason, stage, from_text(at))
                        for name, item_id, subject, sender, reason, stage, at in listed),
    )


def peek(database: Path, *, operator_paused: bool, now: datetime) -> StatusReport | None:
    """The report of a store no app is running on, read without changing anything; None when
    only the full opening can answer (no database yet, an older schema, no person yet, a folder
    that is not writable, or any trouble at all, which the full opening then reports in words)."""
    try:
        if not os.access(database.parent, os.W_OK | os.X_OK) or inspect_file(database).revision != SCHEMA_HEAD:
            return None
        with leaving_no_trace(database):
            db = open_read_only(database)
            try:
                row = db.execute("SELECT id FROM users ORDER BY id LIMIT 1").fetchone()
                if row is None:
                    return None
                db.execute("BEGIN")  # one snapshot for all the reads
                return read_status(db, row[0], operator_paused=operator_paused, now=now, running=False)
            finally:
                db.close()
    except (StoreError, OSError, sqlite3.Error, ValueError):
        return None


def _connector_state(health: tuple[Any, ...] | None, reading: tuple[Any, ...] | None,
                     set_aside: int) -> ConnectorState:
    """A connector never set up reads as `disabled`; its reading problem counts only while connected."""
    if health is None:
        return ConnectorState(status=HealthStatus.DISABLED, set_aside=set_aside)
    status, error_code, last_success_at, last_failure_at = health
    status = HealthStatus(status)
    problem, detail, failing_since, retry_at = reading if reading is not None and status is HealthStatus.CONNECTED \
        else (None, None, None, None)
    return ConnectorState(
        status=status, error_code=error_code, last_success_at=from_text(last_success_at),
        last_failure_at=from_text(last_failure_at), set_aside=set_aside,
        problem=ReadProblem(problem) if problem else None,
        problem_text=detail if problem else None,
        failing_since=from_text(failing_since) if problem else None,
        retry_at=from_text(retry_at) if problem else None,
    )
