"""The approvals window over the real queue: what waits, why and until when; approve, reject
with a why, dual confirmation asked twice; the activity list explains every decision; the tray's
count follows at once."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from skytwin_desktop.intents import Intents
from skytwin_desktop.store.approvals import enqueue
from skytwin_desktop.store.models import Approval
from skytwin_desktop.store.policy import load_policy_settings
from skytwin_desktop.ui.approvals_window import ApprovalsWindow
from skytwin_desktop.ui.tray import TrayController
from tests.policy_helpers import action, risk


def queue(context, act):
    with context.session() as session:
        logged = context.gate.decide(session, context.user_id, act,
                                     settings=load_policy_settings(session, context.user_id),
                                     trust_tier="observer", risk=risk(), now=context.clock())
        return enqueue(session, context.user_id, act, risk(), logged.decision, urgency="normal",
                       now=context.clock())[0].id


@pytest.fixture
def setup(qtbot, context):
    intents = Intents(context)
    window = ApprovalsWindow(intents)
    qtbot.addWidget(window)
    controller = TrayController(intents.report, approvals=window)
    qtbot.addWidget(controller.window)
    yield context, window, controller
    controller.shutdown()


def status(context, approval_id):
    with context.session() as session:
        return session.scalar(select(Approval.status).where(Approval.id == approval_id))


def test_pending_list_says_what_why_and_until_when(setup):
    context, window, controller = setup
    queue(context, action("archive_email", key="sig-1:archive_email"))
    window.reload()
    text = window.pending.item(0).text()
    assert "archive_email → msg-1" in text and "Just watch" in text and "decided by: tier" in text
    assert "Expires 2026-03-15T09:30:00.000Z" in text


def test_approve_and_reject_update_the_queue_and_the_tray_count(setup, monkeypatch):
    context, window, controller = setup
    first = queue(context, action(key="sig-1:archive_email"))
    second = queue(context, action(key="sig-2:archive_email"))
    controller.refresh()
    assert controller.approvals_action.text() == "Approvals (2)"
    window.reload()
    window.approve_button.click()
    assert status(context, first) == "approved" and window.message.text() == "Approved."
    assert controller.approvals_action.text() == "Approvals (1)", "the count updates at once"
    monkeypatch.setattr(window, "ask_note", lambda: ("not this one", True))
    window.reject_button.click()
    assert status(context, second) == "rejected"
    with context.session() as session:
        assert session.get(Approval, second).resolution_note == "not this one"
    assert controller.approvals_action.text() == "Approvals (0)" and not window.approve_button.isEnabled()


def test_dual_confirmation_asks_a_second_time(setup, monkeypatch):
    context, window, controller = setup
    drastic = queue(context, action("run_shell", key="sig-3:run_shell"))
    window.reload()
    monkeypatch.setattr(window, "confirm_twice", lambda item: False)
    window.approve_button.click()
    assert status(context, drastic) == "pending" and "second confirmation was not given" in window.message.text()
    monkeypatch.setattr(window, "confirm_twice", lambda item: True)
    window.approve_button.click()
    assert status(context, drastic) == "approved"


def test_activity_list_explains_every_decision(setup):
    context, window, controller = setup
    queue(context, action(key="sig-1:archive_email"))
    with context.session() as session:
        context.gate.decide(session, context.user_id, action(spend=2.0, key="sig-2:archive_email"),
                            settings=load_policy_settings(session, context.user_id), trust_tier="high_autonomy",
                            risk=risk(), now=context.clock())
    window.reload()
    lines = [window.activity.item(i).text() for i in range(window.activity.count())]
    assert "refused" in lines[0] and "never spends money" in lines[0]
    assert "asked you" in lines[1] and "decided by: tier" in lines[1]
