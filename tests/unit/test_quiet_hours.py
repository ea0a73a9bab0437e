"""Quiet hours are judged on the person's wall clock, in their own timezone, across midnight and DST."""

from __future__ import annotations

import os
import time as systime
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from skytwin_desktop.policy import PolicyEvaluator
from skytwin_desktop.policy.quiet_hours import in_quiet_hours, parse_hhmm
from tests.policy_helpers import action, quiet, risk, settings

BERLIN, NEW_YORK = ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York")
NIGHT = quiet("22:00", "07:00")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    "when_utc, expected",
    [
        ("2026-01-15 20:59", False),  # 21:59 in Berlin (UTC+1)
        ("2026-01-15 21:00", True),  # 22:00: start is inside
        ("2026-01-15 23:30", True),  # after midnight locally
        ("2026-01-16 05:59", True),  # 06:59
        ("2026-01-16 06:00", False),  # 07:00: end is outside
        ("2026-07-15 20:00", True),  # summer: 22:00 CEST is 20:00 UTC
        ("2026-07-15 05:00", False),  # 07:00 CEST
    ],
)
def test_window_across_midnight_in_the_persons_zone(when_utc: str, expected: bool):
    assert in_quiet_hours(utc(when_utc), NIGHT, BERLIN) is expected


def test_spring_forward_night_in_berlin():
    # 2026-03-29: clocks jump 02:00 CET -> 03:00 CEST. A fixed +1 offset would get 07:30 wrong.
    assert in_quiet_hours(utc("2026-03-29 04:30"), NIGHT, BERLIN) is True  # 06:30 CEST
    assert in_quiet_hours(utc("2026-03-29 05:30"), NIGHT, BERLIN) is False  # 07:30 CEST
    assert in_quiet_hours(utc("2026-03-28 21:00"), NIGHT, BERLIN) is True  # 22:00 CET the evening before


def test_fall_back_night_in_new_york():
    # 2026-11-01: 02:00 EDT -> 01:00 EST; 01:15 happens twice and both are inside 01:00-01:30.
    window = quiet("01:00", "01:30")
    assert in_quiet_hours(utc("2026-11-01 05:15"), window, NEW_YORK) is True  # 01:15 EDT
    assert in_quiet_hours(utc("2026-11-01 06:15"), window, NEW_YORK) is True  # 01:15 EST
    assert in_quiet_hours(utc("2026-11-01 06:45"), window, NEW_YORK) is False  # 01:45 EST


def test_same_day_window_and_start_equal_end():
    work = quiet("09:00", "17:00")
    assert in_quiet_hours(utc("2026-01-15 08:00"), work, BERLIN) is True
    assert in_quiet_hours(utc("2026-01-15 16:00"), work, BERLIN) is False
    never = quiet("08:00", "08:00")
    for hour in range(24):
        assert in_quiet_hours(utc(f"2026-01-15 {hour:02d}:00"), never, BERLIN) is False
    assert in_quiet_hours(utc("2026-01-15 23:00"), None, BERLIN) is False


def test_machine_timezone_is_never_used(monkeypatch: pytest.MonkeyPatch):
    """Same instant, same person: the answer must not change with the computer's zone."""
    evaluator = PolicyEvaluator(operator_paused=False)
    policy = settings(timezone="Europe/Berlin", quiet_hours=NIGHT)
    instant = utc("2026-01-15 21:30")  # 22:30 in Berlin: quiet
    answers = []
    for machine_zone in ("Pacific/Auckland", "America/Los_Angeles", "UTC"):
        monkeypatch.setenv("TZ", machine_zone)
        if hasattr(systime, "tzset"):
            systime.tzset()
        answers.append(evaluator.evaluate(action(), policy, "high_autonomy", risk(), instant).reason_code)
    monkeypatch.delenv("TZ")
    if hasattr(systime, "tzset"):
        systime.tzset()
    assert answers == ["quiet_hours"] * 3
    assert os.environ.get("TZ") is None


def test_quiet_hours_are_off_until_set():
    assert settings().quiet_hours is None
    decision = PolicyEvaluator(operator_paused=False).evaluate(action(), settings(), "high_autonomy", risk(),
                                                               utc("2026-01-15 02:00"))
    assert decision.auto_execute


@pytest.mark.parametrize("text", ["7:00", "07:0", "24:00", "07-00", "seven", "07:60", ""])
def test_bad_times_are_refused(text: str):
    with pytest.raises(ValueError, match="HH:MM"):
        parse_hhmm(text)
