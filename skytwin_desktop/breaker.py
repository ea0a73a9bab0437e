"""The circuit breaker for one (person, connector): pure, clock and randomness injected.

- A permanent failure is not the breaker's to hold: the connector's health becomes `needs_reauth`,
  and nothing polls it (no token requests, no backoff arithmetic) until the person reconnects.
- Three transient failures in a row open it for 5 minutes, doubling up to 30, with jitter; when
  that passes, one probe poll is let through (half-open): success closes it, failure reopens it.
- A reconnect closes it at once.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

TRANSIENT_THRESHOLD = 3
BASE_BACKOFF = timedelta(minutes=5)
MAX_BACKOFF = timedelta(minutes=30)
JITTER = 0.1
"""Up to ±10 % of the backoff, so many machines do not retry in step."""
LONGEST_BACKOFF = MAX_BACKOFF * (1 + JITTER)


@dataclass(frozen=True, slots=True)
class BreakerState:
    consecutive_failures: int = 0
    open_until: datetime | None = None

    def allows(self, now: datetime) -> bool:
        """May a poll run now? (After the backoff, this is the half-open probe.) A backoff that
        ends further ahead than any backoff can is the wall clock set back since it began: it has
        run its course, rather than holding polls off for as long as the clock went back."""
        return self.open_until is None or now >= self.open_until or self.open_until - now > LONGEST_BACKOFF


def closed() -> BreakerState:
    return BreakerState()


def backoff_for(failures: int) -> timedelta:
    """5 min at the threshold, doubling with each further failure, capped at 30 min."""
    steps = max(0, failures - TRANSIENT_THRESHOLD)
    backoff: timedelta = min(BASE_BACKOFF * (2**steps), MAX_BACKOFF)
    return backoff


def after_transient(state: BreakerState, now: datetime, rng: random.Random | None = None) -> BreakerState:
    failures = state.consecutive_failures + 1
    if failures < TRANSIENT_THRESHOLD:
        return replace(state, consecutive_failures=failures, open_until=None)
    delay = backoff_for(failures)
    spread = (rng or random).uniform(-JITTER, JITTER)
    return replace(state, consecutive_failures=failures, open_until=now + delay * (1 + spread))
