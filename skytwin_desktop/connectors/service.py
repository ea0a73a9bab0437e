"""Polling, connecting and disconnecting, with health and breaker kept per connector.

Each connector is judged on its own: a revoked Gmail never stops or marks a working Calendar.
Access tokens are held in memory here (the keyring is read once per connector), and everything a
poll brings in is stored with the new cursor in one transaction.
"""

from __future__ import annotations

import dataclasses
import logging
import random
import threading
import traceback
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from skytwin_desktop import breaker
from skytwin_desktop.clock import Clock
from skytwin_desktop.connectors.calendar import CalendarReader
from skytwin_desktop.connectors.endpoints import SCOPES, GoogleEndpoints
from skytwin_desktop.connectors.failures import Cancelled, ConnectorFailure, Failure
from skytwin_desktop.connectors.gmail import GmailReader
from skytwin_desktop.connectors.oauth import ClientSecrets, sign_in
from skytwin_desktop.connectors.secrets import (
    KeyringLocked,
    KeyringUnavailable,
    TokenStore,
)
from skytwin_desktop.domain import Connector, HealthStatus, ReadProblem, SetAsideStage
from skytwin_desktop.outcomes import PollOutcome, PollReport
from skytwin_desktop.signals import PollResult, Signal
from skytwin_desktop.store import connectors as store
from skytwin_desktop.store.database import Sessions
from skytwin_desktop.store.health import health_by_connector, record_health
from skytwin_desktop.store.set_aside import due_for_retry, set_aside
from skytwin_desktop.store.set_aside import forget as forget_set_aside

if TYPE_CHECKING:
    from skytwin_desktop.connectors.http import GoogleHttp

log = logging.getLogger(__name__)
REVOKE_TIMEOUT = 10
GOOGLE_PERMISSIONS = "https://myaccount.google.com/permissions"
"""Where a person removes an app's access to their Google account by hand."""
T = TypeVar("T")


UNREACHABLE_CODES = frozenset({"network_error", "timeout"})


def read_problem(failure: Failure) -> ReadProblem:
    if failure.error_code in UNREACHABLE_CODES:
        return ReadProblem.UNREACHABLE
    if failure.error_code == "internal_error":
        return ReadProblem.INTERNAL_ERROR
    return ReadProblem.GOOGLE_ERRORS


def problem_words(problem: ReadProblem, detail: str) -> str:
    if problem is ReadProblem.UNREACHABLE:
        return "Google could not be reached; check the network connection"
    if problem is ReadProblem.GOOGLE_ERRORS:
        return f"Google answers with errors ({detail.removeprefix('Google answered ')})"
    return detail


class ConnectorService:
    def __init__(self, sessions: Sessions, user_id: int, endpoints: GoogleEndpoints,
                 client: Callable[[], ClientSecrets], tokens: TokenStore, clock: Clock,
                 rng: random.Random | None = None, sign_in_timeout: int | None = None,
                 interval: timedelta = timedelta(seconds=60)) -> None:
        self._sessions = sessions
        self.user_id = user_id
        self.endpoints = endpoints
        self._client = client
        self.tokens = tokens
        self.clock = clock
        self._rng = rng or random.Random()
        self._sign_in_timeout = sign_in_timeout
        self.interval = interval
        """Between polls: when a failed read is next tried (unless the breaker waits longer)."""
        self._http: dict[Connector, GoogleHttp] = {}
        self._locks = {connector: threading.RLock() for connector in Connector}
        self.stopping = threading.Event()
        """Set when the app quits: no new request starts, so a poll ends at its next request."""

    # --- polling -------------------------------------------------------------------------
    def poll(self, connector: Connector) -> PollReport:
        connector = Connector(connector)
        with self._locks[connector]:
            return self._poll(connector)

    def _poll(self, connector: Connector) -> PollReport:
        now = self.clock()
        with self._sessions.read() as session:
            health = health_by_connector(session, self.user_id).get(connector)
            status = HealthStatus(health.status) if health else HealthStatus.DISABLED
            if status is HealthStatus.DISABLED:
                return PollReport(connector, PollOutcome.NOT_CONNECTED)
            if status is HealthStatus.NEEDS_REAUTH:
                return PollReport(connector, PollOutcome.NEEDS_REAUTH, error_code=health.error_code if health else None,
                                  detail=f"{connector.display_name} needs reconnecting")
            state = store.load_breaker(session, self.user_id, connector)
            if not state.allows(now):
                return PollReport(connector, PollOutcome.BACKING_OFF, detail=f"retrying after {state.open_until}")
            cursor = store.get_cursor(session, self.user_id, connector)
            again = due_for_retry(session, self.user_id, (SetAsideStage.READ,), connector)
        try:
            http = self._http_for(connector)
            result = self._read(connector, http, cursor, now, [(row.item_id, row.payload) for row in again])
        except KeyringUnavailable as exc:
            problem = ReadProblem.KEYRING_LOCKED if isinstance(exc, KeyringLocked) else ReadProblem.KEYRING_MISSING
            with self._sessions.write() as session:
                store.record_reading(session, self.user_id, connector, at=now, problem=problem, detail=str(exc),
                                     retry_at=now + self.interval)
            return PollReport(connector, PollOutcome.KEYRING_ERROR, error_code="keyring_unavailable", detail=str(exc))
        except ConnectorFailure as exc:
            if self.stopping.is_set():  # the request was cut short by quitting, not by Google
                return PollReport(connector, PollOutcome.CANCELLED, detail="the app is quitting")
            return self._failed(connector, state, exc.failure, str(exc))
        except Cancelled:
            return PollReport(connector, PollOutcome.CANCELLED, detail="the app is quitting")
        except Exception as exc:  # noqa: BLE001 - a fault of ours on an answer we did not foresee: shown, retried, never fatal
            log.warning("%s could not be read (%s); the first frames:\n%s", connector.display_name, type(exc).__name__,
                        "".join(traceback.format_exception(exc, limit=6)).strip())
            return self._failed(connector, state, Failure(False, "internal_error"),
                                f"SkyTwin could not read {connector.display_name} ({type(exc).__name__}); "
                                "details are in the log")
        with self._sessions.write() as session:
            forget_set_aside(session, [row.id for row in again])
            count = store.save_poll(session, self.user_id, connector, result.signals, result.cursor)
            set_aside(session, self.user_id, result.set_aside, SetAsideStage.READ)
            record_health(session, self.user_id, connector, HealthStatus.CONNECTED, at=now)
            store.record_reading(session, self.user_id, connector, at=now)
            store.save_breaker(session, self.user_id, connector, breaker.closed())
            if result.account and not store.get_account(session, self.user_id, connector):
                store.set_account(session, self.user_id, connector, result.account, now)
        log.info("%s poll: %d new signal(s)%s", connector.display_name, count,
                 " (first sync)" if result.bootstrapped else "")
        return PollReport(connector, PollOutcome.OK, signals=count)

    def _read(self, connector: Connector, http: GoogleHttp, cursor: str | None, now: datetime,
              again: list[tuple[str, dict[str, Any]]]) -> PollResult:
        """The poll, plus the items an older SkyTwin set aside, read again."""
        signals: Sequence[Signal]
        if connector is Connector.GMAIL:
            result = GmailReader(http, self.endpoints.gmail).poll(cursor)
            signals, kept = GmailReader.reread(again)
        else:
            reader = CalendarReader(http, self.endpoints.calendar)
            result = reader.poll(cursor, now)
            signals, kept = reader.reread(again, now) if again else ([], [])
        if not again:
            return result
        return dataclasses.replace(result, signals=[*result.signals, *signals], set_aside=[*result.set_aside, *kept])

    def _failed(self, connector: Connector, state: breaker.BreakerState, failure: Failure, detail: str) -> PollReport:
        now = self.clock()
        with self._sessions.write() as session:
            if failure.permanent:
                record_health(session, self.user_id, connector, HealthStatus.NEEDS_REAUTH, at=now,
                              error_code=failure.error_code)
                store.save_breaker(session, self.user_id, connector, breaker.closed(), failure.error_code)
                store.record_reading(session, self.user_id, connector, at=now)  # the health says it all
            else:
                after = breaker.after_transient(state, now, self._rng)
                store.save_breaker(session, self.user_id, connector, after, failure.error_code)
                problem = read_problem(failure)
                store.record_reading(session, self.user_id, connector, at=now, problem=problem,
                                     detail=problem_words(problem, detail),
                                     retry_at=after.open_until or now + self.interval)
        if failure.permanent:
            self._drop(connector)
            log.warning("%s needs reconnecting (%s); polling stops until then", connector.display_name,
                        failure.error_code)
            return PollReport(connector, PollOutcome.PERMANENT_FAILURE, error_code=failure.error_code, detail=detail)
        log.warning("%s poll failed for now (%s): %s", connector.display_name, failure.error_code, detail)
        return PollReport(connector, PollOutcome.TRANSIENT_FAILURE, error_code=failure.error_code, detail=detail)

    def _http_for(self, connector: Connector) -> GoogleHttp:
        http = self._http.get(connector)
        if http is not None:
            return http
        refresh_token = self.tokens.load(self.user_id, connector)
        if not refresh_token:
            raise ConnectorFailure(Failure(True, "token_missing"), "no saved sign-in in the keyring")
        client = self._client()
        from google.oauth2.credentials import Credentials  # Google's code loads with the first connected poll

        from skytwin_desktop.connectors.http import GoogleHttp

        credentials = Credentials(token=None, refresh_token=refresh_token, token_uri=self.endpoints.token_uri,
                                  client_id=client.client_id, client_secret=client.client_secret,
                                  scopes=list(SCOPES[connector]))
        http = self._http[connector] = GoogleHttp(credentials, self.stopping)
        return http

    def call(self, connector: Connector, work: Callable[[GoogleHttp], T]) -> T:
        """Run `work` with the connector's session (for the action handlers). A connector that is
        not connected is not tried; a permanent failure marks it `needs_reauth` as a poll would."""
        connector = Connector(connector)
        with self._locks[connector]:
            with self._sessions.read() as session:
                health = health_by_connector(session, self.user_id).get(connector)
            status = HealthStatus(health.status) if health else HealthStatus.DISABLED
            if status is not HealthStatus.CONNECTED:
                if health is None or status is HealthStatus.DISABLED:
                    raise ConnectorFailure(Failure(True, "not_connected"), f"{connector.display_name} is not connected")
                raise ConnectorFailure(Failure(True, health.error_code or "needs_reauth"),
                                       f"{connector.display_name} needs reconnecting")
            try:
                return work(self._http_for(connector))
            except KeyringUnavailable as exc:  # the keyring may unlock later: try again then
                raise ConnectorFailure(Failure(False, "keyring_unavailable"), str(exc)) from None
            except ConnectorFailure as exc:
                if exc.failure.permanent and not self.stopping.is_set():
                    self._failed(connector, breaker.closed(), exc.failure, str(exc))
                raise

    def _drop(self, connector: Connector) -> None:
        http = self._http.pop(connector, None)
        if http is not None:
            http.close()

    def close(self) -> None:
        for connector in list(self._http):
            self._drop(connector)

    # --- connecting ----------------------------------------------------------------------
    def connect(self, connector: Connector, tell: Callable[[str], None] | None = None,
                waiting: Callable[[str, int], None] | None = None, cancel: threading.Event | None = None) -> PollReport:
        """Sign in, keep the token in the keyring, mark the connector connected and poll at once,
        so a reconnect clears a warning in seconds rather than at the next backoff. `tell` gets
        the sign-in address to show the person (the log, when nobody asked); `waiting` and
        `cancel`: see `oauth.sign_in`."""
        connector = Connector(connector)
        client = self._client()
        _ = self.tokens.backend  # fail before the browser opens if there is nowhere to keep the token
        kwargs = {"timeout": self._sign_in_timeout} if self._sign_in_timeout else {}
        credentials = sign_in(connector, client, self.endpoints, tell=tell or log.info, waiting=waiting,
                              cancel=cancel, **kwargs)
        with self._locks[connector]:
            self._drop(connector)
            self.tokens.save(self.user_id, connector, credentials.refresh_token)
            from skytwin_desktop.connectors.http import GoogleHttp

            http = self._http[connector] = GoogleHttp(credentials, self.stopping)
            now = self.clock()
            try:
                account = self._account(connector, http, now)
            except ConnectorFailure as exc:
                account = None
                log.warning("Could not read the %s account after signing in (%s)", connector.display_name, exc)
            with self._sessions.write() as session:
                previous = store.get_account(session, self.user_id, connector)
                if account and previous and previous != account:
                    store.clear_cursor(session, self.user_id, connector)  # another mailbox: start afresh
                if account:
                    store.set_account(session, self.user_id, connector, account, now)
                record_health(session, self.user_id, connector, HealthStatus.CONNECTED, at=now)
                store.record_reading(session, self.user_id, connector, at=now)
                store.save_breaker(session, self.user_id, connector, breaker.closed())
            log.info("%s connected", connector.display_name)
            return self._poll(connector)

    def _account(self, connector: Connector, http: GoogleHttp, now: datetime) -> str | None:
        if connector is Connector.GMAIL:
            return GmailReader(http, self.endpoints.gmail).account()
        return CalendarReader(http, self.endpoints.calendar).account(now)

    def disconnect(self, connector: Connector) -> str:
        """Forget the sign-in and mark the connector disabled. Revoke it at Google only when no other
        connector uses the same account, since Google ends the whole grant of a (client, account)."""
        connector = Connector(connector)
        with self._locks[connector]:
            refresh_token = self.tokens.load(self.user_id, connector)
            with self._sessions.read() as session:
                account = store.get_account(session, self.user_id, connector)
                health = health_by_connector(session, self.user_id)
                sharing = [other for other in Connector
                           if other is not connector and account is not None
                           and store.get_account(session, self.user_id, other) == account
                           and other in health and health[other].status != HealthStatus.DISABLED.value]
            revoked: bool | None = None  # None: not asked
            if refresh_token and not sharing:
                revoked = self._revoke(refresh_token)
            self.tokens.delete(self.user_id, connector)
            self._drop(connector)
            with self._sessions.write() as session:
                record_health(session, self.user_id, connector, HealthStatus.DISABLED, at=self.clock())
                store.clear_cursor(session, self.user_id, connector)
                store.save_breaker(session, self.user_id, connector, breaker.closed())
                store.forget_account(session, self.user_id, connector)
                store.forget_reading(session, self.user_id, connector)
        if revoked:
            return f"{connector.display_name} disconnected; access revoked at Google."
        if sharing:
            return (f"{connector.display_name} disconnected on this computer. Access was not revoked at Google because "
                    f"{' and '.join(c.display_name for c in sharing)} uses the same account.")
        if revoked is False:
            return (f"{connector.display_name} disconnected on this computer, but Google could not be asked to revoke "
                    f"SkyTwin's access; remove it yourself at {GOOGLE_PERMISSIONS}.")
        return f"{connector.display_name} disconnected on this computer."

    def forget_all(self) -> None:
        """For "delete all my data": revoke what Google will revoke, and empty the keyring entries."""
        for connector in Connector:
            with self._locks[connector]:
                token = self.tokens.load(self.user_id, connector)
                if token:
                    self._revoke(token)
                self.tokens.delete(self.user_id, connector)
                self._drop(connector)

    def _revoke(self, token: str) -> bool:
        import requests

        try:
            response = requests.post(self.endpoints.revoke_uri, data={"token": token},
                                     headers={"Content-Type": "application/x-www-form-urlencoded"},
                                     timeout=REVOKE_TIMEOUT)
        except requests.RequestException:
            log.warning("Could not reach Google to revoke the token; it was forgotten locally")
            return False
        if response.status_code == 400 and "invalid_token" in response.text:
            return True  # Google no longer knows the token: its access is already gone
        if response.status_code != 200:
            log.warning("Google did not revoke the token (HTTP %s); it was forgotten locally", response.status_code)
        return response.status_code == 200
