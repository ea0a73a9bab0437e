"""Sleep and wake: the clocks and logind tell a wake, polling waits until Google's host answers (a real
TCP port on 127.0.0.1 that refuses, then opens), and then each connector runs exactly one cycle; the
runs missed while asleep never come as a burst, and quitting ends the wait at once."""

from __future__ import annotations

import logging
import queue
import socket
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.events import EVENT_JOB_EXECUTED, EVENT_JOB_MAX_INSTANCES, JobExecutionEvent
from apscheduler.schedulers.base import STATE_PAUSED
from jeepney import DBusAddress, new_signal
from jeepney.io.blocking import DBusConnection

from skytwin_desktop.domain import Connector
from skytwin_desktop.outcomes import BatchReport, PollOutcome, PollReport
from skytwin_desktop.scheduler import PollScheduler
from skytwin_desktop.wake import (
    GOOGLE_HOST,
    SLEEP_THRESHOLD_SECONDS,
    LogindWatch,
    SleepDetector,
    probe_address,
    reachable,
    sleep_offset,
    slept,
    wait_for_network,
)
from tests.support.fake_dbus import FakeService

GMAIL, CALENDAR = Connector.GMAIL, Connector.CALENDAR
HOURS_ASLEEP = 8
WAIT = 10  # seconds any step may take before the test calls it hung


# The clocks -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("before", "after", "expected"), [
    (1000.0, 1000.0, None),  # CLOCK_BOOTTIME and CLOCK_MONOTONIC tick together while awake
    (1000.0, 1000.004, None),  # two reads a moment apart, or NTP slewing the wall clock
    (1000.0, 1000.0 + SLEEP_THRESHOLD_SECONDS, None),  # exactly the threshold: a nap, not a sleep
    (1000.0, 1000.0 + SLEEP_THRESHOLD_SECONDS + 0.5, SLEEP_THRESHOLD_SECONDS + 0.5),
    (1000.0, 1000.0 + HOURS_ASLEEP * 3600, HOURS_ASLEEP * 3600),
    (1000.0, 1000.0 - 3600, None),  # the wall clock set back an hour is no sleep
])
def test_only_a_growth_beyond_the_threshold_is_a_sleep(before, after, expected):
    assert slept(before, after) == expected


def test_the_detector_tells_each_sleep_once():
    readings = iter([5.0, 5.0, 5.001, 5.001 + 600, 5.002 + 600, 7000.0, 7000.0])
    detector = SleepDetector(lambda: next(readings), threshold=60)
    assert detector.check() is None
    assert detector.check() is None
    assert detector.check() == pytest.approx(600)
    assert detector.check() is None, "the sleep became the new base"
    detector.rebase()  # told by logind first: the clocks stay quiet about it
    assert detector.check() is None


def test_two_readings_of_this_machines_clocks_show_no_sleep():
    assert slept(sleep_offset(), sleep_offset()) is None


def test_the_probe_goes_where_the_polls_go():
    assert probe_address(None) == (GOOGLE_HOST, 443)
    assert probe_address("https://google.example") == ("google.example", 443)
    assert probe_address("http://127.0.0.1:8765") == ("127.0.0.1", 8765)
    assert probe_address("http://[::1]:8765") == ("::1", 8765)


# The network wait -----------------------------------------------------------------------------------------------

@pytest.fixture
def google_port() -> Iterator[socket.socket]:
    """A port on 127.0.0.1 that refuses connections until the test calls `listen()` (bound all along,
    so nothing else can take it meanwhile)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    yield sock
    sock.close()


def api_root(sock: socket.socket) -> str:
    return f"http://127.0.0.1:{sock.getsockname()[1]}"


class Gate:
    """Pauses between reachability tries, 1 ms each and `total` of them, that stop after `before`
    until the test says go: the test looks at a wait known to be under way, with no real sleeping."""

    def __init__(self, before: int, total: int = 50) -> None:
        self.before, self.total = before, total
        self.reached, self.go = threading.Event(), threading.Event()

    def __iter__(self) -> Iterator[float]:
        for n in range(self.total):
            if n == self.before:
                self.reached.set()
                self.go.wait(WAIT)
            yield 0.001


def test_the_wait_ends_when_the_host_answers(google_port):
    host, port = probe_address(api_root(google_port))
    tries: list[bool] = []

    def probe() -> bool:
        tries.append(reachable(host, port))
        return tries[-1]

    gate, result = Gate(before=3), []
    waiter = threading.Thread(target=lambda: result.append(wait_for_network(probe, threading.Event(), gate)))
    waiter.start()
    assert gate.reached.wait(WAIT)
    assert tries == [False] * 4, "tried at once, then after each pause, and refused"
    google_port.listen()
    gate.go.set()
    waiter.join(WAIT)
    assert result == [True] and tries == [False] * 4 + [True]


def test_the_wait_gives_up_after_its_tries(google_port):
    host, port = probe_address(api_root(google_port))
    tries: list[bool] = []
    answered = wait_for_network(lambda: tries.append(reachable(host, port)) or False, threading.Event(),
                                (0.001, 0.001, 0.001))
    assert answered is False and len(tries) == 4


def test_stopping_ends_a_long_pause_at_once(google_port):
    stop, result = threading.Event(), []
    paused = threading.Event()

    def pauses() -> Iterator[float]:
        paused.set()
        yield 3600.0

    host, port = probe_address(api_root(google_port))
    waiter = threading.Thread(target=lambda: result.append(wait_for_network(lambda: reachable(host, port), stop,
                                                                             pauses())))
    waiter.start()
    assert paused.wait(WAIT)
    stop.set()
    waiter.join(WAIT)
    assert not waiter.is_alive() and result == [False]
    assert wait_for_network(lambda: pytest.fail("no try once stopping"), stop) is False


# The scheduler --------------------------------------------------------------------------------------------------

class CountingApp:
    """A Pollable that counts cycles; with `hold` set, Gmail's poll stays mid-call until it is released."""

    def __init__(self) -> None:
        self.stopping = threading.Event()
        self.polls: Counter[Connector] = Counter()
        self.passes = 0
        self.hold: threading.Event | None = None
        self._changed = threading.Condition()

    def connected(self) -> set[Connector]:
        return set(Connector)

    def poll(self, connector: Connector) -> PollReport:
        with self._changed:
            self.polls[connector] += 1
            self._changed.notify_all()
        if self.hold is not None and connector is GMAIL:
            self.hold.wait(WAIT)
        return PollReport(connector, PollOutcome.OK)

    def process_inbox(self) -> BatchReport:
        with self._changed:
            self.passes += 1
            self._changed.notify_all()
        return BatchReport()

    def wait_for(self, predicate: Callable[[], bool]) -> bool:
        with self._changed:
            return self._changed.wait_for(predicate, timeout=WAIT)


class Harness:
    """A real PollScheduler (hourly, so only what the test does makes it run) over a CountingApp, with
    its clocks in the test's hands, started and through its first cycle of each connector."""

    def __init__(self, google_port: socket.socket, backoff=(0.001,)) -> None:
        self.app = CountingApp()
        self.offset = 1000.0
        self.scheduler = PollScheduler(self.app, interval=3600, api_root=api_root(google_port),
                                       sleep_clock=lambda: self.offset, backoff=backoff)
        self.apscheduler = self.scheduler._scheduler
        self.executed: Counter[str] = Counter()
        self.skipped: Counter[str] = Counter()
        self._events = threading.Condition()
        self.apscheduler.add_listener(self._event, EVENT_JOB_EXECUTED | EVENT_JOB_MAX_INSTANCES)
        self.scheduler.start()
        for job in self.apscheduler.get_jobs():
            job.trigger.jitter = None  # the schedule's phase known: a missed run is never due again soon
        assert self.app.wait_for(lambda: self.app.passes == 2)
        assert self.wait_for(lambda: self.executed == {"gmail": 1, "calendar": 1})

    def _event(self, event: JobExecutionEvent) -> None:
        with self._events:
            (self.executed if event.code == EVENT_JOB_EXECUTED else self.skipped)[event.job_id] += 1
            self._events.notify_all()

    def wait_for(self, predicate: Callable[[], bool]) -> bool:
        with self._events:
            return self._events.wait_for(predicate, timeout=WAIT)

    def due(self, *job_ids: str, ago: timedelta = timedelta(0)) -> None:
        """What the wall clock's jump does to the schedule: runs come due (all of them by default)."""
        for job in self.apscheduler.get_jobs():
            if not job_ids or job.id in job_ids:
                job.modify(next_run_time=datetime.now(UTC) - ago)

    def sleep(self, hours: int = HOURS_ASLEEP) -> None:
        """The machine slept: the clocks drift apart and every run came due long ago (the last one
        missed ten minutes ago, so the next is fifty minutes off)."""
        self.offset += hours * 3600
        self.due(ago=timedelta(hours=hours, minutes=10))

    def next_runs_are_the_usual_ones(self) -> bool:
        soon = datetime.now(UTC) + timedelta(minutes=30)
        return all(job.next_run_time > soon for job in self.apscheduler.get_jobs())

    def stop(self) -> None:
        if self.app.hold is not None:
            self.app.hold.set()
        self.scheduler.shutdown()


@pytest.fixture
def harness() -> Iterator[Callable[..., Harness]]:
    made: list[Harness] = []

    def make(*args, **kwargs) -> Harness:
        made.append(Harness(*args, **kwargs))
        return made[-1]

    yield make
    for each in made:
        each.stop()


def wake_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("Woke from sleep")]


def test_after_a_sleep_the_clocks_tell_one_cycle_per_connector_runs_once_the_host_answers(
        harness, google_port, caplog):
    caplog.set_level(logging.INFO, logger="skytwin_desktop.scheduler")
    gate = Gate(before=3)
    h = harness(google_port, backoff=gate)
    h.sleep()
    assert gate.reached.wait(WAIT), "the host was tried and refused, again and again"
    assert h.app.polls == {GMAIL: 1, CALENDAR: 1} and h.app.passes == 2, "no poll at a network that is down"
    assert wake_lines(caplog) == [f"Woke from sleep (clock jump of {HOURS_ASLEEP * 60} min); "
                                  "catching up once the network answers"]
    google_port.listen()
    gate.go.set()
    assert h.app.wait_for(lambda: h.app.passes == 4)
    assert h.next_runs_are_the_usual_ones(), "nothing else is due: no burst of the runs missed"
    h.scheduler.shutdown()
    assert h.app.polls == {GMAIL: 2, CALENDAR: 2}, "exactly one catch-up cycle per connector"
    assert h.app.passes == 4
    assert "The network answers; catching up with one poll of each service" in caplog.messages
    assert len(wake_lines(caplog)) == 1


def test_when_the_host_never_answers_the_usual_schedule_goes_on(harness, google_port, caplog):
    caplog.set_level(logging.INFO, logger="skytwin_desktop.scheduler")
    gate = Gate(before=1, total=3)
    h = harness(google_port, backoff=gate)
    h.scheduler.woke("logind")
    assert gate.reached.wait(WAIT)
    h.due(ago=timedelta(hours=HOURS_ASLEEP, minutes=10))
    assert h.app.polls == {GMAIL: 1, CALENDAR: 1}
    assert h.apscheduler.state == STATE_PAUSED, "the schedule sleeps meanwhile: no run even starts"
    gate.go.set()  # two more refusals and the tries are spent
    assert h.app.wait_for(lambda: h.app.passes == 4), "the overdue runs, once each"
    assert h.app.polls == {GMAIL: 2, CALENDAR: 2} and h.next_runs_are_the_usual_ones()
    port = google_port.getsockname()[1]
    assert f"127.0.0.1:{port} did not answer; polling goes on at its usual times" in caplog.messages


def test_quitting_while_waiting_for_the_network_returns_at_once(harness, google_port):
    pausing = threading.Event()

    def pauses() -> Iterator[float]:
        pausing.set()
        yield 3600.0

    h = harness(google_port, backoff=pauses())
    h.sleep()  # a run finds the sleep, waits for the catch-up, and the catch-up waits an hour
    assert pausing.wait(WAIT)
    (catch_up,) = [t for t in threading.enumerate() if t.name == "wake-catch-up"]
    quitting = threading.Thread(target=h.scheduler.shutdown)
    quitting.start()
    quitting.join(WAIT)
    catch_up.join(WAIT)
    assert not quitting.is_alive() and not catch_up.is_alive()
    assert not h.scheduler.running
    assert h.app.polls == {GMAIL: 1, CALENDAR: 1}


def test_a_long_gap_is_one_run_per_connector_and_a_running_cycle_is_never_overlapped(harness, google_port):
    h = harness(google_port)
    h.due(ago=timedelta(days=30, minutes=10))  # 720 hourly runs missed as APScheduler sees it; the clocks saw no sleep
    assert h.wait_for(lambda: h.executed == {"gmail": 2, "calendar": 2})
    assert h.next_runs_are_the_usual_ones()
    assert h.app.polls == {GMAIL: 2, CALENDAR: 2} and h.app.passes == 4
    h.app.hold = threading.Event()
    h.due("gmail")
    assert h.app.wait_for(lambda: h.app.polls[GMAIL] == 3), "Gmail's poll is mid-call"
    h.due("gmail")
    assert h.wait_for(lambda: h.skipped["gmail"] == 1), "the next run is skipped, not started alongside"
    h.app.hold.set()
    assert h.wait_for(lambda: h.executed["gmail"] == 3)
    assert h.app.polls == {GMAIL: 3, CALENDAR: 2}


# logind ---------------------------------------------------------------------------------------------------------

class FakeLogind(FakeService):
    """Owns logind's name on a private bus and sends PrepareForSleep when the test asks."""

    bus_name = "org.freedesktop.login1"

    def __init__(self, address: str) -> None:
        self._to_send: queue.Queue[bool] = queue.Queue()
        super().__init__(address)

    def prepare_for_sleep(self, start: bool) -> None:
        self._to_send.put(start)

    def answer(self, connection: DBusConnection, message, member: str) -> None:
        pass  # nothing calls logind here

    def between_calls(self, connection: DBusConnection) -> None:
        manager = DBusAddress("/org/freedesktop/login1", interface="org.freedesktop.login1.Manager")
        while not self._to_send.empty():
            connection.send(new_signal(manager, "PrepareForSleep", "b", (self._to_send.get(),)))


@pytest.mark.slow
def test_logind_tells_a_wake_and_each_connector_catches_up_once(private_bus, harness, google_port, caplog):
    caplog.set_level(logging.INFO, logger="skytwin_desktop.scheduler")
    logind = FakeLogind(private_bus)
    google_port.listen()
    h = harness(google_port)
    told: list[str] = []

    def on_wake(reason: str) -> None:
        told.append(reason)
        h.scheduler.woke(reason)

    watch = LogindWatch.start(on_wake, bus=private_bus)
    assert watch is not None
    try:
        h.offset += HOURS_ASLEEP * 3600  # the clocks saw the sleep too, and must not tell it again
        logind.prepare_for_sleep(True)
        logind.prepare_for_sleep(False)
        assert h.app.wait_for(lambda: h.app.passes == 4)
        assert told == ["logind"], "going to sleep is no wake"
        h.scheduler.shutdown()
        assert h.app.polls == {GMAIL: 2, CALENDAR: 2}
        assert wake_lines(caplog) == ["Woke from sleep (logind); catching up once the network answers"]
    finally:
        watch.stop()
        logind.stop()


@pytest.mark.slow
def test_a_bus_without_logind_means_no_watch(private_bus):
    assert LogindWatch.start(lambda reason: None, bus=private_bus) is None


def test_no_bus_means_no_watch(tmp_path):
    assert LogindWatch.start(lambda reason: None, bus=f"unix:path={tmp_path / 'no-bus'}") is None
