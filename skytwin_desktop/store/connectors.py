"""Connector state in the store: accounts, cursors, the signal inbox and breaker backoff."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.dialects.sqlite import insert
from sqlalchemy.orm import Session

from skytwin_desktop.breaker import BreakerState
from skytwin_desktop.domain import Connector, ReadProblem
from skytwin_desktop.signals import Signal, signal_to_json
from skytwin_desktop.store.models import (
    ConnectorAccount,
    ConnectorBreaker,
    ConnectorCursor,
    ConnectorReading,
    SignalInboxRow,
)


def _pk(user_id: int, connector: Connector) -> tuple[int, str]:
    return user_id, Connector(connector).value


def get_cursor(session: Session, user_id: int, connector: Connector) -> str | None:
    row = session.get(ConnectorCursor, _pk(user_id, connector))
    return row.cursor if row else None


def add_to_inbox(session: Session, user_id: int, items: list[tuple[Connector, str, dict[str, Any]]]) -> None:
    """(connector, signal id, signal JSON) into the inbox; a signal already there is replaced."""
    for connector, signal_id, payload in items:
        statement = insert(SignalInboxRow).values(user_id=user_id, connector_name=Connector(connector).value,
                                                  signal_id=signal_id, payload=payload)
        session.execute(statement.on_conflict_do_update(
            index_elements=[SignalInboxRow.user_id, SignalInboxRow.connector_name, SignalInboxRow.signal_id],
            set_={SignalInboxRow.payload: statement.excluded.payload},
        ))


def save_poll(session: Session, user_id: int, connector: Connector, signals: Sequence[Signal], cursor: str) -> int:
    """Record a poll's signals and then move the cursor, in the caller's one transaction."""
    name = Connector(connector).value
    add_to_inbox(session, user_id, [(connector, signal.signal_id, signal_to_json(signal)) for signal in signals])
    row = session.get(ConnectorCursor, (user_id, name))
    if row is None:
        session.add(ConnectorCursor(user_id=user_id, connector_name=name, cursor=cursor))
    else:
        row.cursor = cursor
    session.flush()
    return len(signals)


def clear_cursor(session: Session, user_id: int, connector: Connector) -> None:
    session.execute(delete(ConnectorCursor).where(ConnectorCursor.user_id == user_id,
                                                  ConnectorCursor.connector_name == Connector(connector).value))


def get_account(session: Session, user_id: int, connector: Connector) -> str | None:
    row = session.get(ConnectorAccount, _pk(user_id, connector))
    return row.account_email if row else None


def set_account(session: Session, user_id: int, connector: Connector, email: str, now: datetime) -> None:
    row = session.get(ConnectorAccount, _pk(user_id, connector))
    if row is None:
        session.add(ConnectorAccount(user_id=user_id, connector_name=Connector(connector).value,
                                     account_email=email.lower(), connected_at=now))
    else:
        row.account_email, row.connected_at = email.lower(), now
    session.flush()


def forget_account(session: Session, user_id: int, connector: Connector) -> None:
    session.execute(delete(ConnectorAccount).where(ConnectorAccount.user_id == user_id,
                                                   ConnectorAccount.connector_name == Connector(connector).value))


def load_breaker(session: Session, user_id: int, connector: Connector) -> BreakerState:
    row = session.get(ConnectorBreaker, _pk(user_id, connector))
    if row is None:
        return BreakerState()
    return BreakerState(row.consecutive_failures, row.open_until)


def save_breaker(session: Session, user_id: int, connector: Connector, state: BreakerState,
                 error_code: str | None = None) -> None:
    row = session.get(ConnectorBreaker, _pk(user_id, connector))
    if row is None:
        row = ConnectorBreaker(user_id=user_id, connector_name=Connector(connector).value)
        session.add(row)
    row.consecutive_failures, row.open_until = state.consecutive_failures, state.open_until
    row.last_error_code = error_code
    session.flush()


def record_reading(session: Session, user_id: int, connector: Connector, *, at: datetime,
                   problem: ReadProblem | None = None, detail: str | None = None,
                   retry_at: datetime | None = None) -> None:
    """What the last attempt to read found: reading works (no problem), or why not. The first
    failure of a run of failures stamps `failing_since`; later ones keep it."""
    row = session.get(ConnectorReading, _pk(user_id, connector))
    if row is None:
        row = ConnectorReading(user_id=user_id, connector_name=Connector(connector).value)
        session.add(row)
    row.last_attempt_at = at
    if problem is None:
        row.problem = row.detail = row.failing_since = row.retry_at = None
    else:
        row.problem, row.detail = ReadProblem(problem).value, (detail or "")[:500] or None
        row.failing_since = row.failing_since or at
        row.retry_at = retry_at
    session.flush()


def forget_reading(session: Session, user_id: int, connector: Connector) -> None:
    session.execute(delete(ConnectorReading).where(ConnectorReading.user_id == user_id,
                                                   ConnectorReading.connector_name == Connector(connector).value))
