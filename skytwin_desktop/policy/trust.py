"""Trust-tier promotion and demotion from the person's feedback. Pure: history and clock in,
at most one tier change out.

Only the history since the tier was last set counts, so a promotion needs a fresh record at the
new tier. Moderate → high is never automatic: it takes the person's explicit choice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from skytwin_desktop.domain import TrustTier
from skytwin_desktop.policy.model import RiskTier

ORDER = tuple(TrustTier)


class Feedback(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"
    UNDONE = "undone"


@dataclass(frozen=True, slots=True)
class FeedbackEvent:
    at: datetime
    kind: Feedback
    risk: RiskTier = RiskTier.LOW


@dataclass(frozen=True, slots=True)
class Promotion:
    streak: int
    """Consecutive approvals needed, counting back from the latest event."""
    rate: float
    """Share of approvals among approvals and rejections."""
    span: timedelta
    """How long the record must cover, from its first event to now."""


PROMOTIONS: dict[TrustTier, Promotion] = {
    TrustTier.OBSERVER: Promotion(10, 0.80, timedelta(hours=24)),
    TrustTier.SUGGEST: Promotion(20, 0.85, timedelta(hours=72)),
    TrustTier.LOW_AUTONOMY: Promotion(50, 0.90, timedelta(hours=168)),
}
REJECTION_BURST = 3
REJECTION_WINDOW = timedelta(days=7)
REJECTION_SHARE = 0.30
REJECTION_SHARE_MIN_EVENTS = 10


@dataclass(frozen=True, slots=True)
class TierChange:
    old: TrustTier
    new: TrustTier
    reason: str


def _step(tier: TrustTier, by: int) -> TrustTier:
    return ORDER[max(0, min(len(ORDER) - 1, ORDER.index(tier) + by))]


def review_tier(current: TrustTier, history: Sequence[FeedbackEvent], now: datetime) -> TierChange | None:
    """The change the record since the tier was set calls for, if any. Demotion is checked first."""
    current = TrustTier(current)
    if current is not TrustTier.OBSERVER:
        reason = _demotion_reason(history, now)
        if reason:
            return TierChange(current, _step(current, -1), reason)
    rule = PROMOTIONS.get(current)
    if rule is None or not history:
        return None
    reason = _promotion_reason(rule, history, now)
    return TierChange(current, _step(current, +1), reason) if reason else None


def _promotion_reason(rule: Promotion, history: Sequence[FeedbackEvent], now: datetime) -> str | None:
    streak = 0
    for event in reversed(history):
        if event.kind is not Feedback.APPROVED:
            break
        streak += 1
    judged = _judged(history)
    rate = sum(1 for e in judged if e.kind is Feedback.APPROVED) / len(judged) if judged else 0.0
    covered = now - min(e.at for e in history)
    if streak >= rule.streak and rate >= rule.rate and covered >= rule.span:
        return f"{streak} approvals in a row, {rate:.0%} approved over {covered.total_seconds() / 3600:.0f} h"
    return None


def _judged(history: Sequence[FeedbackEvent]) -> list[FeedbackEvent]:
    """The events that were the person's decision on an approval."""
    return [e for e in history if e.kind in (Feedback.APPROVED, Feedback.REJECTED)]


def _demotion_reason(history: Sequence[FeedbackEvent], now: datetime) -> str | None:
    if any(e.kind is Feedback.UNDONE and e.risk is RiskTier.CRITICAL for e in history):
        return "you undid a critical action"
    recent_rejections = sum(1 for e in history if e.kind is Feedback.REJECTED and now - e.at <= REJECTION_WINDOW)
    if recent_rejections >= REJECTION_BURST:
        return f"{recent_rejections} rejections in the last 7 days"
    judged = _judged(history)
    if len(judged) >= REJECTION_SHARE_MIN_EVENTS:
        share = sum(1 for e in judged if e.kind is Feedback.REJECTED) / len(judged)
        if share > REJECTION_SHARE:
            return f"{share:.0%} of {len(judged)} decisions rejected"
    return None
