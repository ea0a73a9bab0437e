"""Background polling with APScheduler 3: one job per connector on a background thread.

`coalesce` plus an unlimited misfire grace means a laptop waking from sleep runs one catch-up
poll instead of logging "missed" or firing a burst; `max_instances=1` means a slow poll is never
overlapped by the next; a little jitter keeps polls from lining up with everyone else's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler

from skytwin_desktop.connectors.service import ConnectorService, PollReport
from skytwin_desktop.domain import Connector

log = logging.getLogger(__name__)


class PollScheduler:
    def __init__(self, service: ConnectorService, interval: int,
                 on_report: Callable[[PollReport], None] | None = None) -> None:
        self.service = service
        self.interval = interval
        self._on_report = on_report
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

    def poll_now(self, connector: Connector) -> None:
        """Run this connector's poll as soon as possible (after a reconnect, say)."""
        self._scheduler.modify_job(Connector(connector).value, next_run_time=datetime.now(UTC))

    @property
    def running(self) -> bool:
        return self._scheduler.running

    def shutdown(self) -> None:
        """Stop scheduling and wait for a running poll to finish, so no row is left half-written."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)
        self.service.close()
        log.info("Polling stopped")

    def _run(self, connector: Connector) -> None:
        try:
            report = self.service.poll(connector)
        except Exception:  # a bug in one poll must not kill the schedule
            log.exception("%s poll crashed", connector.title)
            return
        if self._on_report is not None:
            self._on_report(report)
