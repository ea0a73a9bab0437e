"""The approvals queue: expiry by urgency (never executing), re-check on approval, pause does not
block the person's own approval, dual confirmation, and feedback into the trust tier."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from skytwin_desktop.domain import Confirmation, Urgency
from skytwin_desktop.errors import InputError
from skytwin_desktop.store.approvals import enqueue, expire_due, pending
from skytwin_desktop.store.models import Approval, FeedbackEventRow, TierChangeRow, User
from skytwin_desktop.store.policy import load_policy_settings
from skytwin_desktop.store.users import load_settings, pause
from skytwin_desktop.twin.approving import Outcome, approve, reject
from skytwin_desktop.twin.executor import Executor
from tests.policy_helpers import action, risk


def queue(context, act, *, urgency=Urgency.NORMAL, tier="observer"):
    with context.session() as session:
        logged = context.gate.decide(session, context.user_id, act,
                                     settings=load_policy_settings(session, context.user_id),
                                     trust_tier=tier, risk=risk(), now=context.clock())
        assert logged.decision.requires_approval, logged.decision
        row, created = enqueue(session, context.user_id, act, risk(), logged.decision, urgency=urgency,
                               now=context.clock())
        return row.id, created


def status_of(context, approval_id):
    with context.session() as session:
        return session.get(Approval, approval_id).status


@pytest.mark.parametrize("urgency, lifetime", [(Urgency.IMMEDIATE, timedelta(minutes=15)),
                                               (Urgency.NORMAL, timedelta(hours=24)),
                                               (Urgency.LOW, timedelta(hours=72))])
def test_expiry_by_urgency_never_executes(context, clock, urgency, lifetime):
    ran = []
    Executor({"archive_email": lambda act: ran.append(act)})  # nothing may call it
    approval_id, _ = queue(context, action(), urgency=urgency)
    clock.advance(seconds=lifetime.total_seconds() - 1)
    with context.session() as session:
        assert expire_due(session, context.user_id, clock()) == 0
        assert [row.id for row in pending(session, context.user_id, clock())] == [approval_id]
    clock.advance(seconds=1)
    with context.session() as session:
        assert expire_due(session, context.user_id, clock()) == 1
        assert pending(session, context.user_id, clock()) == []
    assert status_of(context, approval_id) == "expired"
    assert ran == []


def test_the_same_action_is_queued_once(context):
    first, created = queue(context, action())
    again, created_again = queue(context, action())
    assert (created, created_again) == (True, False) and first == again


def test_approving_yields_a_grant_the_executor_accepts(context):
    act = action()
    approval_id, _ = queue(context, act)
    ran = []
    with context.session() as session:
        answer = approve(session, context.gate, context.user_id, approval_id, now=context.clock())
        assert answer.outcome is Outcome.APPROVED
        Executor({"archive_email": lambda a: ran.append(a.target)}).execute(act, answer.recheck, answer.grant)
    assert ran == ["msg-1"]
    assert status_of(context, approval_id) == "approved"
    with context.session() as session:
        assert session.scalars(select(FeedbackEventRow.kind)).all() == ["approved"]


def test_approving_an_expired_approval_does_nothing(context, clock):
    approval_id, _ = queue(context, action(), urgency=Urgency.IMMEDIATE)
    clock.advance(minutes=16)
    with context.session() as session:
        answer = approve(session, context.gate, context.user_id, approval_id, now=clock())
    assert answer.outcome is Outcome.EXPIRED and answer.grant is None
    assert status_of(context, approval_id) == "expired"


def test_approval_is_refused_when_policy_now_denies_it(context):
    approval_id, _ = queue(context, action(domain="shop.example"))
    with context.session() as session:
        load_settings(session, context.user_id).blocked_domains = ["shop.example"]
    with context.session() as session:
        answer = approve(session, context.gate, context.user_id, approval_id, now=context.clock())
    assert answer.outcome is Outcome.REFUSED and answer.grant is None
    assert "shop.example" in answer.message
    assert status_of(context, approval_id) == "rejected"


def test_pause_does_not_block_the_persons_own_approval(context):
    approval_id, _ = queue(context, action())
    with context.session() as session:
        pause(session, context.user_id, now=context.clock(), reason="away")
    with context.session() as session:
        answer = approve(session, context.gate, context.user_id, approval_id, now=context.clock())
    assert answer.outcome is Outcome.APPROVED and answer.grant is not None


def test_dual_confirmation_needs_two_within_ten_minutes(context, clock):
    approval_id, _ = queue(context, action("run_shell"))
    with context.session() as session:
        assert session.get(Approval, approval_id).confirmation == Confirmation.DUAL.value

    def answer():
        with context.session() as session:
            return approve(session, context.gate, context.user_id, approval_id, now=clock())

    assert answer().outcome is Outcome.NEEDS_SECOND_CONFIRMATION
    clock.advance(minutes=11)
    assert answer().outcome is Outcome.NEEDS_SECOND_CONFIRMATION, "the first confirmation went stale"
    assert status_of(context, approval_id) == "pending"
    clock.advance(minutes=9)
    final = answer()
    assert final.outcome is Outcome.APPROVED and final.grant is not None


def test_reject_records_feedback_and_three_rejections_demote(context, clock):
    with context.session() as session:
        session.get(User, context.user_id).trust_tier = "suggest"
    ids = [queue(context, action(key=f"sig-{n}:archive_email"), tier="suggest")[0] for n in range(3)]
    for approval_id in ids:
        clock.advance(hours=1)
        with context.session() as session:
            answer = reject(session, context.user_id, approval_id, now=clock(), note="not this")
            assert answer.outcome is Outcome.REJECTED
    with context.session() as session:
        assert session.get(User, context.user_id).trust_tier == "observer"
        change = session.scalars(select(TierChangeRow)).one()
        assert (change.old_tier, change.new_tier, change.by_person) == ("suggest", "observer", False)
        assert "3 rejections" in change.reason
    with pytest.raises(InputError, match="already rejected"), context.session() as session:
        reject(session, context.user_id, ids[0], now=clock())


def test_ten_approvals_over_a_day_promote_observer(context, clock):
    ids = [queue(context, action(key=f"sig-{n}:archive_email"), urgency=Urgency.LOW)[0] for n in range(10)]
    tiers = []
    for approval_id in ids:
        with context.session() as session:
            approve(session, context.gate, context.user_id, approval_id, now=clock())
        with context.session() as session:
            tiers.append(session.get(User, context.user_id).trust_tier)
        clock.advance(hours=2, minutes=40)
    assert tiers == ["observer"] * 9 + ["suggest"], "promoted by the tenth approval, 24 h after the first"
    with context.session() as session:
        assert session.scalars(select(TierChangeRow.new_tier)).all() == ["suggest"]


def test_unknown_approval_is_a_clear_error(context):
    with pytest.raises(InputError, match="no approval #999"), context.session() as session:
        approve(session, context.gate, context.user_id, 999, now=context.clock())
