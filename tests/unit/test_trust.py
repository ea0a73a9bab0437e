"""Trust-tier promotion and demotion from the person's feedback."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from skytwin_desktop.domain import TrustTier
from skytwin_desktop.policy import RiskTier
from skytwin_desktop.policy.trust import Feedback, FeedbackEvent, review_tier

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)
A, R, U = Feedback.APPROVED, Feedback.REJECTED, Feedback.UNDONE


def history(kinds: str, span: timedelta, risk: RiskTier = RiskTier.LOW) -> list[FeedbackEvent]:
    """Events spread evenly from NOW - span to NOW; 'a' approved, 'r' rejected, 'u' undone."""
    letters = {"a": A, "r": R, "u": U}
    step = span / max(1, len(kinds) - 1)
    return [FeedbackEvent(NOW - span + step * i, letters[k], risk) for i, k in enumerate(kinds)]


@pytest.mark.parametrize(
    "tier, kinds, span, new",
    [
        (TrustTier.OBSERVER, "a" * 10, timedelta(hours=24), TrustTier.SUGGEST),
        (TrustTier.OBSERVER, "a" * 9, timedelta(hours=48), None),  # one approval short
        (TrustTier.OBSERVER, "a" * 10, timedelta(hours=23), None),  # not long enough
        (TrustTier.OBSERVER, "r" + "a" * 10, timedelta(hours=30), TrustTier.SUGGEST),  # 91 %
        (TrustTier.OBSERVER, "rr" + "a" * 10, timedelta(hours=30), TrustTier.SUGGEST),  # 83 %
        (TrustTier.OBSERVER, "a" * 5 + "r" + "a" * 9, timedelta(hours=30), None),  # streak broken
        (TrustTier.SUGGEST, "a" * 20, timedelta(hours=72), TrustTier.LOW_AUTONOMY),
        (TrustTier.SUGGEST, "a" * 20, timedelta(hours=71), None),
        (TrustTier.LOW_AUTONOMY, "a" * 50, timedelta(hours=168), TrustTier.MODERATE_AUTONOMY),
        (TrustTier.LOW_AUTONOMY, "a" * 49, timedelta(hours=200), None),
        (TrustTier.MODERATE_AUTONOMY, "a" * 500, timedelta(days=90), None),  # high only by choice
    ],
)
def test_promotion_thresholds(tier, kinds, span, new):
    change = review_tier(tier, history(kinds, span), NOW)
    assert (change.new if change else None) == new


def test_demotion_on_undo_of_a_critical_action():
    change = review_tier(TrustTier.MODERATE_AUTONOMY, [FeedbackEvent(NOW, U, RiskTier.CRITICAL)], NOW)
    assert change is not None and change.new is TrustTier.LOW_AUTONOMY and "critical" in change.reason
    assert review_tier(TrustTier.MODERATE_AUTONOMY, [FeedbackEvent(NOW, U, RiskTier.HIGH)], NOW) is None


def test_demotion_on_three_rejections_in_seven_days():
    recent = history("rrr", timedelta(days=6))
    assert review_tier(TrustTier.SUGGEST, recent, NOW).new is TrustTier.OBSERVER
    spread = history("raaaaaaaaaaaaraaaaaaaaaaaaaaar", timedelta(days=30))  # 3 rejections, far apart, 10 %
    assert review_tier(TrustTier.SUGGEST, spread, NOW) is None


def test_demotion_when_rejections_exceed_thirty_percent():
    events = history("rarararaaaa", timedelta(days=60))  # 4 of 11 = 36 %, none in the last week
    events = [FeedbackEvent(e.at - timedelta(days=10), e.kind, e.risk) for e in events]
    assert review_tier(TrustTier.LOW_AUTONOMY, events, NOW).new is TrustTier.SUGGEST
    nine = [FeedbackEvent(e.at - timedelta(days=10), e.kind, e.risk) for e in history("rarararaa", timedelta(days=60))]
    assert review_tier(TrustTier.LOW_AUTONOMY, nine, NOW) is None, "needs at least 10 events"


def test_never_below_observer():
    assert review_tier(TrustTier.OBSERVER, history("rrrrr", timedelta(days=1)), NOW) is None


def test_demotion_wins_over_promotion():
    events = history("u" + "a" * 20, timedelta(hours=80), RiskTier.CRITICAL)
    assert review_tier(TrustTier.SUGGEST, events, NOW).new is TrustTier.OBSERVER
