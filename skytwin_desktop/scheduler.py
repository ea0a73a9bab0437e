"""Background polling with APScheduler 3: one job per connector on a background thread.

`coalesce` plus an unlimited misfire grace means the runs missed while a laptop slept become one
run, never a burst or a "missed" log line; `max_instances=1` means a slow poll is never overlapped
by the next; a little jitter keeps polls from lining up with everyone else's. After a wake (told by
`woke`, or seen by the clocks at the next run) polling waits until Google's host answers and then
runs one cycle per connector at once, rather than reporting a network still coming up as down.

Each cycle (poll, then the twin's pass over the inbox) runs in a daemon thread the job waits on,
so quitting never waits for a request that is mid-air: no new request starts once quitting has
begun, and an action caught mid-call is exactly the crash the action records are built for.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Protocol

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_RUNNING

from skytwin_desktop.domain import Connector
from skytwin_desktop.errors import SkytwinError
from skytwin_desktop.outcomes import BatchReport, CycleReport, PollReport
from skytwin_desktop.wake import (
    BACKOFF_SECONDS,
    SLEEP_THRESHOLD_SECONDS,
    SleepDetector,
    probe_address,
    reachable,
    sleep_offset,
    wait_for_network,
    wall_offset,
)

log = logging.getLogger(__name__)
STOP_CHECK_SECONDS = 0.05
WALL_STEP_SECONDS = SLEEP_THRESHOLD_SECONDS
"""A wall clock set back by more than this is a jump to catch up with, not drift."""


class Pollable(Protocol):
    """The façade's side the scheduler drives (each call announces its own change)."""

    @property
    def stopping(self) -> threading.Event: ...

    def connected(self) -> set[Connector]: ...
    def poll(self, connector: Connector) -> PollReport: ...
    def process_inbox(self) -> BatchReport: ...


class PollScheduler:
    def __init__(self, app: Pollable, interval: int,
                 on_failure: Callable[[SkytwinError], None] | None = None, *, api_root: str | None = None,
                 on_trouble: Callable[[SkytwinError | None], None] | None = None,
                 sleep_clock: Callable[[], float] = sleep_offset, backoff: Iterable[float] = BACKOFF_SECONDS,
                 wall_clock: Callable[[], float] = wall_offset) -> None:
        """`on_failure`: a cycle ended in a failure of the app itself (its database gone, say): polling
        stops. `on_trouble`: a cycle met trouble that passes (a busy database, a full disk), and later
        None once a cycle went through again; polling goes on. `api_root`: the
        configured Google root, whose host tells after a wake that the network is back (None: Google's).
        `sleep_clock`, `backoff` (the pauses between those tries) and `wall_clock` are there for tests."""
        self.app = app
        self.interval = interval
        self._on_failure = on_failure
        self._on_trouble = on_trouble
        self._troubled = False
        self._stopping = threading.Event()
        self._probe_at = probe_address(api_root)
        self._backoff = backoff
        self._sleep = SleepDetector(sleep_clock)
        self._wall_clock = wall_clock
        self._wake = threading.Condition()  # guards the two below, and pausing and resuming around a wake
        self._catching_up = False
        self._in_hand: set[Connector] = set()  # runs that found a wake and wait to be the catch-up themselves
        self._jobs = threading.Lock()  # one sync at a time (they come from any thread)
        self._scheduler = BackgroundScheduler(
            timezone=UTC,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )

    def start(self) -> None:
        self._scheduler.start()
        self.sync(first=True)
        threading.Thread(target=self._watch_wall_clock, name="wall-clock-watch", daemon=True).start()
        log.info("Polling every %d s", self.interval)

    def _watch_wall_clock(self) -> None:
        """APScheduler keeps its times by the wall clock: set back an hour, it would poll nothing for
        an hour. Once per poll interval (a monotonic wait, so no more wake-ups than the polls make),
        a wall clock found set back brings each service's next poll to now. Set forward, overdue runs
        are coalesced into one each by APScheduler itself: no burst."""
        last = self._wall_clock()
        while not self._stopping.wait(self.interval):
            now = self._wall_clock()
            if last - now > WALL_STEP_SECONDS:
                log.info("The wall clock was set back %.0f min; polling each service now", (last - now) / 60)
                with self._wake:
                    if not self._stopping.is_set() and self._scheduler.running:
                        moment = datetime.now(UTC)
                        for job in self._scheduler.get_jobs():
                            job.modify(next_run_time=moment)
            last = now

    def sync(self, *, first: bool = False) -> None:
        """One job per connected service, none for the others: a service that is not connected (or
        must be reconnected first) costs no wake-ups. Called after a sign-in, a disconnect or a poll
        (which may find a sign-in revoked); `first`: the start, when every job runs at once."""
        if self._stopping.is_set() or not self._scheduler.running:
            return
        wanted = self.app.connected()
        now = datetime.now(UTC)
        with self._jobs:
            for connector in Connector:
                job = self._scheduler.get_job(connector.value)
                if connector in wanted and job is None:
                    self._scheduler.add_job(
                        self._run, "interval", seconds=self.interval, jitter=max(1, self.interval // 10),
                        id=connector.value, name=f"poll {connector.value}", args=[connector],
                        **({"next_run_time": now} if first else {}),  # a new sign-in polled already
                    )
                    log.info("Polling %s", connector.display_name)
                elif connector not in wanted and job is not None:
                    job.remove()
                    log.info("Not polling %s: it is not connected", connector.display_name)

    @property
    def running(self) -> bool:
        return bool(self._scheduler.running)

    def shutdown(self) -> None:
        """Stop scheduling and tell running cycles to stop; returns at once rather than waiting
        for a request in flight (SQLite's transactions keep every row whole either way)."""
        with self._wake:  # the wait for the network, and runs held for it, end at once
            self._stopping.set()
            self._wake.notify_all()
        self.app.stopping.set()
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)  # jobs return within STOP_CHECK_SECONDS
        log.info("Polling stopped")

    def woke(self, reason: str) -> None:
        """The machine woke from sleep (`reason` for the log: "logind", say): no poll until Google's host
        answers, then one cycle per connector at once. Safe from any thread; a wake told while one is
        being caught up is the same wake."""
        with self._wake:
            self._hold_for_network(reason)

    def _hold_for_network(self, reason: str) -> None:
        """Pause the schedule and wait for the network on a thread of its own; the caller holds `_wake`."""
        if self._catching_up or self._stopping.is_set() or self._scheduler.state != STATE_RUNNING:
            return
        self._catching_up = True
        self._sleep.rebase()  # this sleep is told: the clocks must not tell it again
        self._scheduler.pause()
        log.info("Woke from sleep (%s); catching up once the network answers", reason)
        threading.Thread(target=self._catch_up, name="wake-catch-up", daemon=True).start()

    def _catch_up(self) -> None:
        answered = False
        try:
            answered = wait_for_network(lambda: reachable(*self._probe_at), self._stopping, self._backoff)
        finally:
            with self._wake:
                self._catching_up = False
                self._wake.notify_all()  # runs in hand go on now: each is its connector's catch-up
                if not self._stopping.is_set():
                    if answered:
                        log.info("The network answers; catching up with one poll of each service")
                        now = datetime.now(UTC)
                        for job in self._scheduler.get_jobs():
                            if Connector(job.id) not in self._in_hand:
                                job.modify(next_run_time=now)  # one run: coalesced, never overlapping
                    else:
                        log.info("%s:%d did not answer; polling goes on at its usual times", *self._probe_at)
                    self._scheduler.resume()

    def _wait_for_catch_up(self, connector: Connector) -> bool:
        """Whether this run may poll. The clocks are read here, at runs the schedule makes anyway, not
        on a timer of their own: after a wake the next run is the first moment anything would reach the
        network, and logind, where it runs, tells at once. A run that finds a wake waits for the network
        and is then its connector's catch-up (the schedule is paused meanwhile, so no other run comes)."""
        with self._wake:
            gap = self._sleep.check()
            if gap is not None:
                self._hold_for_network(f"clock jump of {gap / 60:.0f} min")
            if self._catching_up:
                self._in_hand.add(connector)
                self._wake.wait_for(lambda: not self._catching_up or self._stopping.is_set())
                self._in_hand.discard(connector)
            return not self._stopping.is_set()

    def cycle(self, connector: Connector) -> CycleReport:
        """One poll of `connector`, then the twin's pass over everything waiting in the inbox."""
        report = self.app.poll(connector)
        batch = self.app.process_inbox() if not self._stopping.is_set() else None
        return CycleReport(report, batch)

    def _run(self, connector: Connector) -> None:
        if not self._wait_for_catch_up(connector):
            return
        done = threading.Event()

        def work() -> None:
            try:
                self.cycle(connector)
                if self._troubled:
                    self._troubled = False
                    if self._on_trouble is not None:
                        self._on_trouble(None)
            except SkytwinError as exc:
                if exc.passing:  # the machine's trouble: say so, try again at the next cycle
                    log.warning("%s cycle could not finish: %s", connector.display_name, exc)
                    self._troubled = True
                    if self._on_trouble is not None and not self._stopping.is_set():
                        self._on_trouble(exc)
                    return
                log.error("%s cycle stopped: %s", connector.display_name, exc)  # the app itself cannot work
                if self._on_failure is not None and not self._stopping.is_set():
                    self._on_failure(exc)
            except Exception:  # a bug in one cycle must not kill the schedule
                log.exception("%s cycle crashed", connector.display_name)
            finally:
                done.set()

        threading.Thread(target=work, name=f"cycle-{connector.value}", daemon=True).start()
        while not done.wait(STOP_CHECK_SECONDS):
            if self._stopping.is_set():
                log.info("Quitting while a %s cycle is mid-request; it stops at its next step", connector.display_name)
                return
