"""Noticing that the machine slept, and waiting for the network to come back before polling.

Two ways to notice a wake. Where logind runs (most Linux desktops), its `PrepareForSleep(false)`
signal says so the moment the machine resumes. Everywhere, the clocks say so too: the monotonic
clock stands still in suspend while CLOCK_BOOTTIME (Linux) or the wall clock (elsewhere) keeps
going, so a growth of their difference is time spent asleep. Where the monotonic clock counts
sleep as well, the clocks see nothing and the scheduler's coalesced catch-up is all there is.

After a wake, Wi-Fi takes seconds to come back: a poll fired at once would only report Google
"unreachable". So one cheap TCP connect to the API host tells when the network answers, tried
again after growing pauses, a bounded number of times.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

SLEEP_THRESHOLD_SECONDS = 60.0
"""A shorter nap goes unremarked: the next scheduled poll is never more than an interval away."""
BACKOFF_SECONDS = (2, 4, 8, 16, 32, 60, 60, 60, 60, 60)
"""Pauses between reachability tries: 11 tries over about six minutes, then the usual schedule."""
PROBE_TIMEOUT_SECONDS = 3.0
GOOGLE_HOST = "www.googleapis.com"
_LOGIND = "org.freedesktop.login1"
_LOGIND_PATH = "/org/freedesktop/login1"
_LOGIND_MANAGER = "org.freedesktop.login1.Manager"
_SETUP_TIMEOUT = 3.0


def sleep_offset() -> float:
    """Seconds of sleep since boot as the clocks tell it, give or take a constant: only grows in suspend
    (or, off Linux, when the wall clock is set forward)."""
    if hasattr(time, "CLOCK_BOOTTIME"):
        return time.clock_gettime(time.CLOCK_BOOTTIME) - time.clock_gettime(time.CLOCK_MONOTONIC)
    return time.time() - time.monotonic()


def wall_offset() -> float:
    """The wall clock less the monotonic one: constant until someone (or NTP, in a jump) sets the
    wall clock, which schedules by date follow."""
    return time.time() - time.monotonic()


def slept(before: float, after: float, threshold: float = SLEEP_THRESHOLD_SECONDS) -> float | None:
    """The seconds slept between two `sleep_offset` readings when beyond `threshold`, else None.
    A shrinking offset (the wall clock set back) is no sleep."""
    gap = after - before
    return gap if gap > threshold else None


class SleepDetector:
    """Compares each reading with the one before. Checked whenever the scheduler wakes up anyway,
    it costs two clock reads and no wake-up of its own. Not thread-safe: the caller holds a lock."""

    def __init__(self, read: Callable[[], float] = sleep_offset,
                 threshold: float = SLEEP_THRESHOLD_SECONDS) -> None:
        self._read = read
        self._threshold = threshold
        self._last = read()

    def check(self) -> float | None:
        """Seconds slept since the last check or rebase, or None; either way this reading becomes the base."""
        now = self._read()
        gap = slept(self._last, now, self._threshold)
        self._last = now
        return gap

    def rebase(self) -> None:
        """Forget the sleep seen so far (logind already told), so the clocks do not report it again."""
        self._last = self._read()


def probe_address(api_root: str | None) -> tuple[str, int]:
    """The host and port polls go to: Google's, or the configured root's (the local sandbox)."""
    if api_root is None:
        return GOOGLE_HOST, 443
    parts = urlsplit(api_root)
    return parts.hostname or GOOGLE_HOST, parts.port or (443 if parts.scheme == "https" else 80)


def reachable(host: str, port: int, timeout: float = PROBE_TIMEOUT_SECONDS) -> bool:
    """Whether a TCP connection opens: no request, no TLS, nothing sent."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_for_network(probe: Callable[[], bool], stop: threading.Event,
                     delays: Iterable[float] = BACKOFF_SECONDS) -> bool:
    """True as soon as `probe` succeeds; False when `stop` is set or every try failed. Tries once now,
    then once after each delay; `stop` ends a pause at once."""
    if stop.is_set():
        return False
    if probe():
        return True
    for delay in delays:
        if stop.wait(delay):
            return False
        if probe():
            return True
    return False


class LogindWatch:
    """Hears logind's PrepareForSleep on the system bus and calls `on_wake("logind")` after each
    resume, from a thread that sleeps in `select` until a signal comes."""

    def __init__(self, on_wake: Callable[[str], None], bus: str = "SYSTEM") -> None:
        from jeepney import MatchRule, message_bus
        from jeepney.io.threading import DBusRouter, Proxy, open_dbus_connection

        self._on_wake = on_wake
        self._connection = open_dbus_connection(bus=bus)
        self._rule = MatchRule(type="signal", interface=_LOGIND_MANAGER, member="PrepareForSleep", path=_LOGIND_PATH)
        try:
            with DBusRouter(self._connection) as router:  # set up with replies, then listen on the bare connection
                bus_proxy = Proxy(message_bus, router, timeout=_SETUP_TIMEOUT)
                if not bus_proxy.NameHasOwner(_LOGIND)[0]:
                    raise LookupError(f"{_LOGIND} is not on the bus")
                sender_rule = MatchRule(type="signal", sender=_LOGIND, interface=_LOGIND_MANAGER,
                                        member="PrepareForSleep", path=_LOGIND_PATH)
                bus_proxy.AddMatch(sender_rule)
        except BaseException:
            self._connection.close()
            raise
        self._thread = threading.Thread(target=self._listen, name="logind-watch", daemon=True)
        self._thread.start()

    @classmethod
    def start(cls, on_wake: Callable[[str], None], bus: str = "SYSTEM") -> LogindWatch | None:
        """A running watch, or None when there is no such bus, no jeepney or no logind on it (the
        clock check still notices wakes)."""
        try:
            return cls(on_wake, bus)
        except Exception as exc:  # noqa: BLE001 - no bus, no jeepney or no logind: the clocks still notice a wake
            log.info("Not listening to logind (%s); a sleep is noticed by the clocks", type(exc).__name__)
            return None

    def stop(self) -> None:
        self._connection.interrupt()
        self._thread.join(timeout=5)
        self._connection.close()

    def _listen(self) -> None:
        from jeepney.io.threading import ReceiveStopped

        while True:
            try:
                message = self._connection.receive()
            except ReceiveStopped:
                return
            except Exception as exc:  # noqa: BLE001 - the bus went away: the clocks still notice a wake
                log.info("Stopped listening to logind (%s)", type(exc).__name__)
                return
            if self._rule.matches(message) and message.body == (False,):
                try:
                    self._on_wake("logind")
                except Exception:  # a handler's fault must not end the listening
                    log.exception("Handling a wake failed")
