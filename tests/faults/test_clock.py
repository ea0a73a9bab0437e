"""The wall clock set back or forward (by hand, or NTP in one jump): polling neither stops for as
long as the clock went back nor bursts to make up for a jump forward, a backoff is never
stretched, and quiet hours follow the clock as it now reads."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from skytwin_desktop.domain import Connector
from skytwin_desktop.intents import Intents
from skytwin_desktop.policy.quiet_hours import in_quiet_hours
from skytwin_desktop.scheduler import PollScheduler
from tests.support.app_process import until

pytestmark = pytest.mark.slow  # starts processes

GMAIL = Connector.GMAIL


def _history_reads(google) -> int:
    return sum(1 for _, path, _ in list(google.requests) if path.endswith("/history"))


def _settled_reads(google) -> int:
    """The count once the cycle under way has finished (no new read for a second)."""
    assert until(lambda: _history_reads(google) >= 1, limit=20), "the first poll at start"
    seen = -1
    while seen != _history_reads(google):
        seen = _history_reads(google)
        until(lambda: False, limit=1.0)
    return seen


def test_a_wall_clock_set_back_an_hour_polls_at_once_not_an_hour_later(google, app):
    intents = Intents(app)
    intents.connect(GMAIL)
    wall = {"offset": 0.0}
    scheduler = PollScheduler(intents, interval=2, wall_clock=lambda: wall["offset"])
    scheduler.start()
    try:
        # What setting the clock back an hour does to a schedule kept by the wall clock:
        scheduler._scheduler.get_job("gmail").modify(next_run_time=datetime.now(UTC) + timedelta(hours=1))
        before = _settled_reads(google)
        wall["offset"] -= 3600
        assert until(lambda: _history_reads(google) > before, limit=15), "polled within an interval, not an hour"
    finally:
        scheduler.shutdown()


def test_a_wall_clock_set_forward_hours_polls_once_not_a_burst(google, app):
    intents = Intents(app)
    intents.connect(GMAIL)
    scheduler = PollScheduler(intents, interval=3600)
    scheduler.start()
    try:
        before = _settled_reads(google)
        # Set forward three hours: three runs are overdue at once.
        scheduler._scheduler.get_job("gmail").modify(next_run_time=datetime.now(UTC) - timedelta(hours=3))
        scheduler._scheduler.wakeup()
        assert until(lambda: _history_reads(google) > before, limit=15)
        assert not until(lambda: _history_reads(google) > before + 1, limit=2), "one run for all the missed ones"
    finally:
        scheduler.shutdown()


def test_quiet_hours_follow_the_clock_as_it_now_reads():
    quiet = (time(22, 0), time(7, 0))
    zone = ZoneInfo("Europe/Berlin")
    evening = datetime(2026, 12, 2, 21, 30, tzinfo=UTC)  # 22:30 in Berlin
    assert in_quiet_hours(evening, quiet, zone)
    assert not in_quiet_hours(evening - timedelta(hours=3), quiet, zone), "set back to 19:30: not quiet"
    assert in_quiet_hours(evening + timedelta(hours=8), quiet, zone), "set forward to 06:30: still quiet"
