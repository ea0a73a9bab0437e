"""Permanent versus transient failures, and the circuit breaker's timing: pure, clock injected."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from skytwin_desktop import breaker
from skytwin_desktop.connectors.failures import api_failure, token_failure

T0 = datetime(2026, 4, 1, 8, tzinfo=UTC)


@pytest.mark.parametrize(
    "status, body, permanent, code",
    [
        (400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}, True,
         "invalid_grant"),
        (401, {"error": "unauthorized_client"}, True, "unauthorized_client"),
        (401, {"error": "invalid_client", "error_description": "The OAuth client was not found."}, True,
         "invalid_client"),
        (None, '{"error": "invalid_grant"}', True, "invalid_grant"),  # JSON text, status unknown
        (403, {"error": "access_denied"}, True, "access_denied"),
        (400, "<html>Bad Request</html>", True, "http_400"),  # no JSON: the status decides
        (403, None, True, "http_403"),
        (429, {"error": "rate_limit_exceeded"}, False, "rate_limit_exceeded"),
        (503, "Service Unavailable", False, "http_503"),
        (500, {"error": "internal_failure"}, False, "internal_failure"),
        (None, None, False, "network_error"),
        (400, {"error": "temporarily_unavailable"}, False, "temporarily_unavailable"),
        (200, b"\xff\xfe not json", False, "http_200"),
    ],
)
def test_token_failures(status, body, permanent, code):
    failure = token_failure(status, body)
    assert (failure.permanent, failure.error_code) == (permanent, code)


@pytest.mark.parametrize(
    "status, reason, permanent, code",
    [
        (401, "authError", True, "invalid_credentials"),
        (403, "insufficientPermissions", True, "insufficient_scope"),
        (403, "rateLimitExceeded", False, "rate_limited"),
        (429, None, False, "rate_limited"),
        (500, None, False, "http_500"),
        (503, None, False, "http_503"),
        (400, "badRequest", False, "http_400"),
    ],
)
def test_api_failures(status, reason, permanent, code):
    body = {"error": {"code": status, "errors": [{"reason": reason}]}} if reason else "oops"
    failure = api_failure(status, body)
    assert (failure.permanent, failure.error_code) == (permanent, code)


def test_a_401_after_a_token_refresh_that_worked_is_passing_trouble():
    """Only a refused refresh (token_failure) means the person must sign in again."""
    body = {"error": {"code": 401, "errors": [{"reason": "authError"}]}}
    failure = api_failure(401, body, after_refresh=True)
    assert (failure.permanent, failure.error_code) == (False, "fresh_token_refused")
    assert api_failure(403, {"error": {"errors": [{"reason": "insufficientPermissions"}]}}, after_refresh=True) \
        .permanent, "a missing permission stays what it is"


def test_two_transient_failures_keep_it_closed_the_third_opens_it():
    state = breaker.closed()
    for _ in range(2):
        state = breaker.after_transient(state, T0, random.Random(1))
        assert state.allows(T0) and state.open_until is None
    state = breaker.after_transient(state, T0, random.Random(1))
    assert state.open_until is not None and not state.allows(T0)
    assert timedelta(minutes=4, seconds=30) <= state.open_until - T0 <= timedelta(minutes=5, seconds=30)


def test_backoff_doubles_and_caps_at_thirty_minutes():
    assert [breaker.backoff_for(n) for n in (3, 4, 5, 6, 7, 20)] == [
        timedelta(minutes=m) for m in (5, 10, 20, 30, 30, 30)]


def test_half_open_probe_after_the_backoff_then_reopen_or_close():
    state = breaker.BreakerState(consecutive_failures=3, open_until=T0 + timedelta(minutes=5))
    assert not state.allows(T0 + timedelta(minutes=4))
    probe_time = T0 + timedelta(minutes=5)
    assert state.allows(probe_time), "one probe is let through once the backoff passed"
    failed = breaker.after_transient(state, probe_time, random.Random(2))
    assert not failed.allows(probe_time) and failed.open_until - probe_time >= timedelta(minutes=9)
    assert not failed.allows(probe_time + timedelta(minutes=1)) and breaker.closed().allows(probe_time)


def test_jitter_spreads_retries():
    opens = {breaker.after_transient(breaker.BreakerState(consecutive_failures=2), T0, random.Random(seed)).open_until
             for seed in range(20)}
    assert len(opens) > 10
    assert all(timedelta(minutes=4.5) <= moment - T0 <= timedelta(minutes=5.5) for moment in opens)


def test_a_wall_clock_set_back_does_not_stretch_a_backoff():
    """A backoff begun before the clock went back a day would otherwise hold polls off for a day."""
    state = breaker.closed()
    for _ in range(breaker.TRANSIENT_THRESHOLD):
        state = breaker.after_transient(state, T0, random.Random(1))
    assert not state.allows(T0 + timedelta(minutes=1)), "an ordinary backoff holds"
    assert state.allows(T0 - timedelta(days=1)), "the clock went back: the backoff has run its course"
    assert state.allows(T0 - timedelta(minutes=40))
    assert not state.allows(T0 - timedelta(minutes=1)), "a small step back is still within the backoff"


def test_a_wall_clock_set_forward_ends_a_backoff_once():
    state = breaker.closed()
    for _ in range(breaker.TRANSIENT_THRESHOLD):
        state = breaker.after_transient(state, T0, random.Random(1))
    later = T0 + timedelta(days=2)
    assert state.allows(later)
    state = breaker.after_transient(state, later, random.Random(1))  # the probe failed: back off again
    assert not state.allows(later + timedelta(minutes=1)) and state.open_until - later <= breaker.LONGEST_BACKOFF
