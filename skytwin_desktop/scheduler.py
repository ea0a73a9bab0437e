"""Background polling with APScheduler 3: one job per connector on a background thread.

`coalesce` plus an unlimited misfire grace means a laptop waking from sleep runs one catch-up
poll instead of logging "missed" or firing a burst; `max_instances=1` means a slow poll is never
overlapped by the next; a little jitter keeps polls from lining up with everyone else's.

Each cycle (poll, then the twin's pass over the inbox) runs in a daemon thread the job waits on,
so quitting never waits for a request that is mid-air: no new request starts once quitting has
begun, and an action caught mid-call is exactly the crash the action records are built for.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from apscheduler.schedulers.background import BackgroundScheduler

from skytwin_desktop.domain import Connector
from skytwin_desktop.errors import SkytwinError
from skytwin_desktop.outcomes import BatchReport, CycleReport, PollReport

log = logging.getLogger(__name__)
STOP_CHECK_SECONDS = 0.05


class Pollable(Protocol):
    """The façade's side the scheduler drives (each call announces its own change)."""

    stopping: threading.Event

    def poll(self, connector: Connector) -> PollReport: ...
    def process_inbox(self) -> BatchReport: ...


class PollScheduler:
    def __init__(self, app: Pollable, interval: int,
                 on_failure: Callable[[SkytwinError], None] | None = None) -> None:
        """`on_failure`: a cycle ended in a failure of the app itself (its database, say)."""
        self.app = app
        self.interval = interval
        self._on_failure = on_failure
        self._stopping = threading.Event()
        self._scheduler = BackgroundScheduler(
            timezone=UTC,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )

    def start(self) -> None:
        now = datetime.now(UTC)
        for connector in Connector:
            self._scheduler.add_job(
                self._run, "interval", seconds=self.interval, jitter=max(1, self.interval // 10),
                id=connector.value, name=f"poll {connector.value}", args=[connector], next_run_time=now,
            )
        self._scheduler.start()
        log.info("Polling every %d s", self.interval)

    @property
    def running(self) -> bool:
        return self._scheduler.running

    def shutdown(self) -> None:
        """Stop scheduling and tell running cycles to stop; returns at once rather than waiting
        for a request in flight (SQLite's transactions keep every row whole either way)."""
        self._stopping.set()
        self.app.stopping.set()
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)  # jobs return within STOP_CHECK_SECONDS
        log.info("Polling stopped")

    def cycle(self, connector: Connector) -> CycleReport:
        """One poll of `connector`, then the twin's pass over everything waiting in the inbox."""
        report = self.app.poll(connector)
        batch = self.app.process_inbox() if not self._stopping.is_set() else None
        return CycleReport(report, batch)

    def _run(self, connector: Connector) -> None:
        done = threading.Event()

        def work() -> None:
            try:
                self.cycle(connector)
            except SkytwinError as exc:  # the app itself cannot work (its database): say so, stop polling
                log.error("%s cycle stopped: %s", connector.title, exc)
                if self._on_failure is not None and not self._stopping.is_set():
                    self._on_failure(exc)
            except Exception:  # a bug in one cycle must not kill the schedule
                log.exception("%s cycle crashed", connector.title)
            finally:
                done.set()

        threading.Thread(target=work, name=f"cycle-{connector.value}", daemon=True).start()
        while not done.wait(STOP_CHECK_SECONDS):
            if self._stopping.is_set():
                log.info("Quitting while a %s cycle is mid-request; it stops at its next step", connector.title)
                return
