"""Fuzzing what reads outside input: the Gmail and Calendar parsers, address parsing, the error-code
extractor, the rule parser, the setting cleaners, the config reader and the socket protocol.
Whatever comes in, only our own clear errors come out (or the item is set aside with its reason)."""

from __future__ import annotations

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from skytwin_desktop.config import Config
from skytwin_desktop.connectors.calendar import read_event
from skytwin_desktop.connectors.failures import Failure, api_failure, token_failure
from skytwin_desktop.connectors.gmail import all_addresses, read_message, sender
from skytwin_desktop.errors import ConfigError, InputError
from skytwin_desktop.instance import BadRequest, parse_request
from skytwin_desktop.policy.rules import Rule, RuleError
from skytwin_desktop.settings_spec import (
    clean_contacts,
    clean_domains,
    clean_quiet_hours,
    clean_sender_labels,
    clean_timezone,
)
from skytwin_desktop.signals import EmailSignal, EventSignal, SetAside

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TEXT = st.text(max_size=60)
LEAF = st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=True) | TEXT


def json_like(keys: list[str]):
    """JSON values whose objects mostly use the keys the reader looks for."""
    key = st.sampled_from(keys) | TEXT
    return st.recursive(LEAF, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(key, inner, max_size=6),
                        max_leaves=25)


HEADER_NAMES = ["From", "To", "Subject", "Date", "List-Unsubscribe", "List-Id", "Reply-To", "Auto-Submitted",
                "Precedence", "from"]
MESSAGE_KEYS = ["id", "threadId", "labelIds", "snippet", "internalDate", "payload", "headers", "name", "value"]
headers = st.lists(st.fixed_dictionaries({"name": st.sampled_from(HEADER_NAMES) | TEXT,
                                          "value": TEXT | st.sampled_from(["a@b.example", "A <a@b.example>, c@d"])}),
                   max_size=6)
messages = st.fixed_dictionaries(
    {"id": TEXT | LEAF}, optional={"threadId": LEAF, "labelIds": st.lists(TEXT, max_size=3) | LEAF,
                                   "snippet": LEAF, "internalDate": st.integers(-2**63, 2**70).map(str) | LEAF,
                                   "payload": st.fixed_dictionaries({"headers": headers}) | json_like(MESSAGE_KEYS)})
EVENT_KEYS = ["id", "summary", "status", "organizer", "email", "start", "end", "dateTime", "date", "timeZone",
              "attendees", "responseStatus", "self", "organizer"]
moments = st.fixed_dictionaries({}, optional={
    "dateTime": st.datetimes().map(lambda d: d.isoformat() + "Z") | TEXT | LEAF,
    "date": st.dates().map(str) | TEXT, "timeZone": TEXT | st.sampled_from(["Europe/Paris", "Mars/Olympus"])})
events = st.fixed_dictionaries(
    {"id": TEXT | LEAF}, optional={"summary": LEAF, "status": st.sampled_from(["confirmed", "cancelled"]) | LEAF,
                                   "organizer": st.fixed_dictionaries({"email": TEXT}) | LEAF,
                                   "start": moments | LEAF, "end": moments | LEAF,
                                   "attendees": st.lists(json_like(EVENT_KEYS), max_size=4) | LEAF})


@FUZZ
@given(messages | json_like(MESSAGE_KEYS))
def test_any_gmail_message_is_read_or_set_aside(data):
    assert isinstance(read_message(data, "m1"), EmailSignal | SetAside)


@FUZZ
@given(events | json_like(EVENT_KEYS))
def test_any_calendar_event_is_read_or_set_aside(item):
    assert isinstance(read_event(item), EventSignal | SetAside)


@FUZZ
@given(st.text(max_size=300) | st.sampled_from(['"a@b" <c@d>', "<<<<a@b>", "a@b, <c@d>", "=?utf-8?q?x?= <a@b>"]))
def test_any_address_header_gives_an_address_or_none(header):
    name, address = sender(header)
    assert isinstance(name, str) and (address == "" or "@" in address)
    assert all(isinstance(found, str) for found in all_addresses(header))


@FUZZ
@given(st.none() | st.integers(0, 999), json_like(["error", "error_description", "errors", "reason", "code"])
       | st.binary(max_size=40), st.booleans())
def test_any_error_answer_becomes_a_failure_with_a_code(status, body, after_refresh):
    for failure in (token_failure(status, body), api_failure(status or 500, body, after_refresh=after_refresh)):
        assert isinstance(failure, Failure) and failure.error_code


@FUZZ
@given(st.lists(json_like(["field", "operator", "value", "kind", "eq", "in", "gte", "risk.financial"]), max_size=3),
       TEXT | st.sampled_from(["allow", "deny", "require_approval"]))
@example([{"field": None, "operator": None, "value": None}], "allow")  # found by the fuzzer: a field not text
@example([{"field": ["kind"], "operator": "eq", "value": "x"}], "allow")
def test_any_rule_is_built_or_refused_in_words(conditions, effect):
    try:
        Rule.build(conditions, effect)  # type: ignore[arg-type]
    except RuleError as exc:
        assert str(exc)


@FUZZ
@given(st.lists(TEXT, max_size=4), st.lists(TEXT, min_size=2, max_size=2), TEXT)
def test_any_setting_is_cleaned_or_refused_in_words(lines, hours, zone):
    for clean, value in ((clean_domains, lines), (clean_contacts, lines), (clean_sender_labels, lines),
                         (clean_quiet_hours, hours), (clean_timezone, zone)):
        try:
            clean(value)
        except InputError as exc:
            assert str(exc)


SWITCHES = ["SKYTWIN_POLL_INTERVAL", "SKYTWIN_LOG_LEVEL", "SKYTWIN_AUTO_EXECUTE_DISABLED", "SKYTWIN_DATA_DIR",
            "SKYTWIN_GOOGLE_API_ROOT", "SKYTWIN_GOOGLE_CLIENT_SECRETS"]


@FUZZ
@given(st.dictionaries(st.sampled_from(SWITCHES), st.text(max_size=40).filter(lambda t: "\0" not in t), max_size=6))
def test_any_environment_is_read_or_refused_in_words(env):
    try:
        Config.from_env(env)
    except ConfigError as exc:
        assert str(exc) and "\n" not in str(exc)


@FUZZ
@given(st.binary(max_size=200) | json_like(["v", "argv"]).map(lambda v: __import__("json").dumps(v).encode()))
def test_any_socket_request_is_taken_or_answered_in_words(line):
    try:
        argv = parse_request(line)
    except BadRequest as exc:
        assert str(exc)
    else:
        assert all(isinstance(word, str) for word in argv)
