"""Every fault the sandbox can inject into Google's answers (error statuses, HTML bodies,
truncated JSON, resets, stalls past the time-out, odd shapes in history, messages and events,
token-endpoint faults) ends in the right connector state, in words, and never as a fault of
our own ("internal_error"); the other service is untouched, and reading resumes once Google
answers properly again. Driven through the real google-auth and HTTP code."""

from __future__ import annotations

import pytest

from skytwin_desktop import words
from skytwin_desktop.connectors import http as connector_http
from skytwin_desktop.domain import Connector, HealthStatus
from skytwin_desktop.intents import Intents
from skytwin_desktop.outcomes import PollOutcome

pytestmark = pytest.mark.slow  # starts processes

GMAIL, CALENDAR = Connector.GMAIL, Connector.CALENDAR
HISTORY, MESSAGES = "/gmail/v1/users/me/history", "/gmail/v1/users/me/messages/"
EVENTS, TOKEN = "/calendar/v3/calendars/primary/events", "/token"
HTML = "<html><body><h1>502 Bad Gateway</h1></body></html>"
TRANSIENT, PERMANENT, READ = "transient", "permanent", "read"
"""What must come of it: a passing failure (still connected, not read for now), a permanent one
(that service needs reconnecting), or a read that went through (odd items set aside)."""


def times(prefix: str) -> int:
    """google-auth tries a token request again by itself after a passing failure: a fault there
    must outlast its tries to reach the app."""
    return 5 if prefix == TOKEN else 1


def fail(status: int, body=None):
    return lambda google, prefix: google.fail_next(prefix, status, count=times(prefix), body=body)


def answer(body):
    return lambda google, prefix: google.answer_next(prefix, body, count=times(prefix))


def reset(google, prefix):
    google.reset_next(prefix, count=times(prefix))


def malformed(google, prefix):
    google.malformed_next(prefix, count=times(prefix))


def stall(google, prefix):
    google.stall_next(prefix, 3, count=times(prefix))


CASES = [
    # Gmail's history list
    (GMAIL, HISTORY, fail(500), TRANSIENT, "http_500"),
    (GMAIL, HISTORY, fail(502, HTML), TRANSIENT, "http_502"),
    (GMAIL, HISTORY, fail(503), TRANSIENT, "http_503"),
    (GMAIL, HISTORY, fail(429), TRANSIENT, "rate_limited"),
    (GMAIL, HISTORY, fail(400), TRANSIENT, "http_400"),
    (GMAIL, HISTORY, fail(403, {"error": {"code": 403, "errors": [{"reason": "insufficientPermissions"}]}}),
     PERMANENT, "insufficient_scope"),
    (GMAIL, HISTORY, fail(403, {"error": {"code": 403, "errors": [{"reason": "userRateLimitExceeded"}]}}),
     TRANSIENT, "rate_limited"),
    (GMAIL, HISTORY, malformed, TRANSIENT, "malformed_response"),
    (GMAIL, HISTORY, reset, TRANSIENT, "network_error"),
    (GMAIL, HISTORY, stall, TRANSIENT, "timeout"),
    (GMAIL, HISTORY, answer([]), TRANSIENT, "malformed_response"),
    (GMAIL, HISTORY, answer("history"), TRANSIENT, "malformed_response"),
    (GMAIL, HISTORY, answer(None), TRANSIENT, "malformed_response"),
    (GMAIL, HISTORY, answer({"history": "x", "historyId": "9"}), TRANSIENT, "malformed_response"),
    (GMAIL, HISTORY, answer({"history": [{"id": "1", "messagesAdded": "x"}], "historyId": "9"}), READ, None),
    (GMAIL, HISTORY, answer({"history": [{"messagesAdded": [{"message": 5}]}], "historyId": "9"}), READ, None),
    (GMAIL, HISTORY, answer({"historyId": {"nested": True}}), TRANSIENT, "malformed_response"),
    # one message, read after the history named it
    (GMAIL, MESSAGES, answer({"id": 5}), READ, None),
    (GMAIL, MESSAGES, answer({"id": "m", "payload": []}), READ, None),
    (GMAIL, MESSAGES, answer([]), TRANSIENT, "malformed_response"),
    (GMAIL, MESSAGES, answer({"id": "m", "internalDate": "year 9999", "payload": {"headers": [{"name": 1}]}}),
     READ, None),
    (GMAIL, MESSAGES, fail(500), TRANSIENT, "http_500"),
    (GMAIL, MESSAGES, malformed, TRANSIENT, "malformed_response"),
    (GMAIL, MESSAGES, reset, TRANSIENT, "network_error"),
    # Calendar's events list
    (CALENDAR, EVENTS, fail(500), TRANSIENT, "http_500"),
    (CALENDAR, EVENTS, fail(502, HTML), TRANSIENT, "http_502"),
    (CALENDAR, EVENTS, malformed, TRANSIENT, "malformed_response"),
    (CALENDAR, EVENTS, reset, TRANSIENT, "network_error"),
    (CALENDAR, EVENTS, answer({"items": "x"}), TRANSIENT, "malformed_response"),
    (CALENDAR, EVENTS, answer({"items": [{"id": 1}, "x", {"id": "e", "start": "tomorrow"}], "nextSyncToken": "s1"}),
     READ, None),
    (CALENDAR, EVENTS, answer({"items": [], "nextSyncToken": 7}), TRANSIENT, "malformed_response"),
    # the token endpoint, when the access token must be renewed
    (GMAIL, TOKEN, fail(500), TRANSIENT, "http_500"),
    (GMAIL, TOKEN, fail(502, HTML), TRANSIENT, "http_502"),
    (GMAIL, TOKEN, fail(400, {"error": "invalid_grant"}), PERMANENT, "invalid_grant"),
    (GMAIL, TOKEN, fail(400, {"error": "temporarily_unavailable"}), TRANSIENT, "temporarily_unavailable"),
    (GMAIL, TOKEN, malformed, TRANSIENT, "malformed_response"),
    (GMAIL, TOKEN, answer({"access_token": 5, "expires_in": "soon"}), TRANSIENT, "malformed_response"),
    (GMAIL, TOKEN, answer([]), TRANSIENT, "malformed_response"),
    (GMAIL, TOKEN, reset, TRANSIENT, "network_error"),
    (GMAIL, TOKEN, stall, TRANSIENT, "timeout"),
]


@pytest.mark.parametrize(("connector", "prefix", "inject", "expected", "code"), CASES,
                         ids=[f"{c.value}-{p.rsplit('/', 2)[-2] or p}-{i}" for i, (c, p, *_) in enumerate(CASES)])
def test_every_google_fault_ends_in_the_right_state_in_words(google, app, monkeypatch, connector, prefix, inject,
                                                             expected, code):
    monkeypatch.setattr(connector_http, "READ_TIMEOUT", 1.0)
    other = CALENDAR if connector is GMAIL else GMAIL
    if prefix == MESSAGES:
        google.deliver({"from": "ann@partner.example", "subject": "Lunch?", "body": "Tomorrow?"})
    if prefix == TOKEN:
        google.expire_access_tokens()
    inject(google, prefix)
    report = app.connectors.poll(connector)
    assert report.error_code != "internal_error", report
    if report.error_code:
        assert report.error_code in words.FAILURE or report.error_code.startswith("http_"), "it has its own words"
    state = Intents(app).report().connectors
    if expected == PERMANENT:
        assert (report.outcome, report.error_code) == (PollOutcome.PERMANENT_FAILURE, code)
        assert state[connector].status is HealthStatus.NEEDS_REAUTH
    elif expected == TRANSIENT:
        assert (report.outcome, report.error_code) == (PollOutcome.TRANSIENT_FAILURE, code)
        assert state[connector].status is HealthStatus.CONNECTED and state[connector].problem is not None
    else:
        assert report.outcome is PollOutcome.OK, report
        assert state[connector].set_aside >= 1, "the odd item is kept and shown, not dropped"
    assert state[other].status is HealthStatus.CONNECTED and state[other].problem is None, "the other is untouched"
    if expected != PERMANENT:
        google.clear_faults()  # Google answers properly again
        assert app.connectors.poll(connector).outcome is PollOutcome.OK, "reading resumes"
        assert Intents(app).report().connectors[connector].problem is None
