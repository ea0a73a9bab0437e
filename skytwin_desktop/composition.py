"""The composition root: the one place that builds the store, logging and (later) connectors and
scheduler from a `Config`, and hands the result to the CLI or the tray."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import tzlocal
from keyring.backend import KeyringBackend
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from skytwin_desktop.clock import Clock, utc_now
from skytwin_desktop.config import Config
from skytwin_desktop.connectors.endpoints import GoogleEndpoints
from skytwin_desktop.connectors.oauth import ClientSecrets, allow_loopback_http
from skytwin_desktop.connectors.secrets import TokenStore
from skytwin_desktop.connectors.service import ConnectorService
from skytwin_desktop.datadir import ensure_data_dir
from skytwin_desktop.logs import configure_logging
from skytwin_desktop.policy import PolicyEvaluator
from skytwin_desktop.store.database import Sessions
from skytwin_desktop.store.migrate import MigrationResult, open_and_migrate
from skytwin_desktop.store.users import ensure_local_user, local_user_id
from skytwin_desktop.twin.gate import PolicyGate
from skytwin_desktop.twin.handlers import Handlers
from skytwin_desktop.twin.pipeline import Twin

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


def build_context(config: Config, clock: Clock = utc_now, keyring_backend: KeyringBackend | None = None) -> AppContext:
    """Prepare the data folder, logging and database (migrating it), the local person, and the
    parts that act on them. Nothing here touches the network or the keyring yet."""
    ensure_data_dir(config.data_dir)
    log_path = configure_logging(config.log_dir, config.log_level)
    migration = open_and_migrate(config.database_path, config.backup_dir)
    sessions = Sessions(migration.engine)
    with sessions.read() as session:  # a plain read when the person exists: no wait behind a writer
        user_id = local_user_id(session)
    if user_id is None:
        with sessions.write() as session:
            user_id = ensure_local_user(session, timezone=local_timezone_name()).id
    log.info("Started with data folder %s (schema %s)", config.data_dir, migration.to_revision)
    allow_loopback_http(config.google_api_root)
    endpoints = GoogleEndpoints.for_root(config.google_api_root)
    connectors = ConnectorService(
        sessions, user_id, endpoints,
        client=lambda: ClientSecrets.load(config.google_client_secrets),
        tokens=TokenStore(keyring_backend), clock=clock, interval=timedelta(seconds=config.poll_interval),
    )
    gate = PolicyGate(PolicyEvaluator(operator_paused=config.auto_execute_disabled))
    return AppContext(
        config=config,
        engine=migration.engine,
        sessions=sessions,
        user_id=user_id,
        clock=clock,
        log_path=log_path,
        migration=migration,
        gate=gate,
        connectors=connectors,
        twin=Twin(sessions, user_id, gate, Handlers(connectors, endpoints), clock, stopping=connectors.stopping),
    )


def local_timezone_name() -> str:
    """The machine's IANA zone as a starting value for the person's own (they can change it)."""
    try:
        name = tzlocal.get_localzone_name()
        if name:
            ZoneInfo(name)
            return name
    except (ZoneInfoNotFoundError, ValueError, OSError, LookupError) as exc:
        log.warning("Could not tell the local timezone (%s); using UTC", exc)
    return "UTC"
