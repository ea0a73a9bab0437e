"""The approvals window over the real queue: what waits, why and until when; approve, reject
with a why, dual confirmation asked twice; the activity list explains every decision; the tray's
count follows at once."""

from __future__ import annotations

import threading
from contextlib import contextmanager

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import select

from skytwin_desktop import words
from skytwin_desktop.clock import utc_now
from skytwin_desktop.composition import build_context
from skytwin_desktop.config import Config
from skytwin_desktop.domain import Connector
from skytwin_desktop.intents import Intents
from skytwin_desktop.policy.confirmation import expires_at
from skytwin_desktop.sandbox import GoogleSandbox
from skytwin_desktop.store.approvals import enqueue
from skytwin_desktop.store.models import Approval
from skytwin_desktop.store.policy import load_policy_settings
from skytwin_desktop.ui.approvals_window import ApprovalsWindow
from skytwin_desktop.ui.tray import TrayController
from tests.policy_helpers import action, risk
from tests.support.windows import pending_text


def queue(context, act):
    with context.session() as session:
        logged = context.gate.decide(session, context.user_id, act,
                                     settings=load_policy_settings(session, context.user_id),
                                     trust_tier="observer", risk=risk(), now=context.clock())
        return enqueue(session, context.user_id, act, risk(), logged.decision, urgency="normal",
                       now=context.clock())[0].id


@contextmanager
def windows(qtbot, context):
    """The approvals window and the tray whose count it moves."""
    intents = Intents(context)
    window = ApprovalsWindow(intents)
    qtbot.addWidget(window)
    controller = TrayController(intents.report, approvals=lambda: window)
    qtbot.addWidget(controller.window)
    controller.open_approvals_window()  # the window the tray builds when the person first opens it
    window.hide()
    try:
        yield context, window, controller
    finally:
        controller.shutdown()


@pytest.fixture
def setup(qtbot, context):
    with windows(qtbot, context) as opened:
        yield opened


def status(context, approval_id):
    with context.session() as session:
        return session.scalar(select(Approval.status).where(Approval.id == approval_id))


def test_pending_list_says_what_why_and_until_when(setup):
    context, window, _controller = setup
    queue(context, action("archive_email", key="sig-1:archive_email"))
    window.reload()
    text = pending_text(window, 0)
    assert "Archive an email: msg-1" in text and "Just watch" in text and "decided by your trust tier" in text
    assert f"Answer by {words.when(expires_at('normal', context.clock()), context.clock())}" in text


@pytest.fixture
def sandbox():
    with GoogleSandbox(sample=False) as running:
        yield running


@pytest.fixture
def live(qtbot, google):
    """The window over a twin connected to the sandbox: approving really archives."""
    context = build_context(Config.from_env(), clock=utc_now)
    try:
        context.connectors.connect(Connector.GMAIL)
        with windows(qtbot, context) as opened:
            yield opened
    finally:
        context.close()


NEWSLETTER = {"List-Unsubscribe": "<mailto:leave@news.example>"}


@pytest.mark.slow
def test_approve_runs_the_action_off_the_gui_thread_and_the_tray_count_follows(live, google, qtbot, monkeypatch):
    context, window, controller = live
    first = google.deliver({"from": "digest@news.example", "subject": "One", "headers": NEWSLETTER})
    second = google.deliver({"from": "digest@news.example", "subject": "Two", "headers": NEWSLETTER})
    context.connectors.poll(Connector.GMAIL)
    assert context.twin.process_inbox().queued == 2
    controller.refresh()
    assert controller.approvals_action.text() == "Approvals (2)"
    window.reload()
    threads = []
    real_approve = window.source.approve
    monkeypatch.setattr(window.source, "approve", lambda i: threads.append(threading.current_thread()) or
                        real_approve(i))
    window.approve_button.click()
    assert window.message.text() == "Approving…" and not window.approve_button.isEnabled()
    qtbot.waitUntil(lambda: window.message.text().startswith("Approved. Archived"), timeout=10_000)
    assert threads and threads[0] is not threading.main_thread(), "the network call ran off the GUI thread"
    archived = [m for m in (first, second) if "INBOX" not in google.message(m)["labelIds"]]
    assert len(archived) == 1
    assert controller.approvals_action.text() == "Approvals (1)", "the count updates at once"
    monkeypatch.setattr(window, "ask_note", lambda: ("not this one", True))
    window.reject_button.click()
    with context.session() as session:
        (rejected,) = session.scalars(select(Approval).where(Approval.status == "rejected")).all()
    assert rejected.resolution_note == "not this one"
    assert controller.approvals_action.text() == "Approvals (0)" and not window.approve_button.isEnabled()
    assert all("INBOX" in google.message(m)["labelIds"] for m in (first, second) if m not in archived)

    window.tabs.setCurrentIndex(1)
    rows = [window.activity.item(i).data(Qt.ItemDataRole.UserRole) for i in range(window.activity.count())]
    done = next(i for i, item in enumerate(rows) if item.undoable)
    window.activity.setCurrentRow(done)
    assert window.undo_button.isEnabled()
    window.undo_button.click()
    qtbot.waitUntil(lambda: window.activity_message.text().startswith("Undone"), timeout=10_000)
    assert "INBOX" in google.message(archived[0])["labelIds"]
    assert not any(window.activity.item(i).data(Qt.ItemDataRole.UserRole).undoable
                   for i in range(window.activity.count()))


def test_dual_confirmation_asks_a_second_time(setup, monkeypatch, qtbot):
    context, window, _controller = setup
    drastic = queue(context, action("run_shell", key="sig-3:run_shell"))
    window.reload()
    monkeypatch.setattr(window, "confirm_twice", lambda item: False)
    window.approve_button.click()
    qtbot.waitUntil(lambda: not window.busy)
    assert status(context, drastic) == "pending" and "second confirmation was not given" in window.message.text()
    monkeypatch.setattr(window, "confirm_twice", lambda item: True)
    window.approve_button.click()
    qtbot.waitUntil(lambda: not window.busy)
    assert status(context, drastic) == "approved"
    assert "could not be carried out" in window.message.text() and "no way to carry out 'run_shell'" in \
        window.message.text()


def test_activity_list_explains_every_decision(setup):
    context, window, _controller = setup
    queue(context, action(key="sig-1:archive_email"))
    with context.session() as session:
        context.gate.decide(session, context.user_id, action(spend=2.0, key="sig-2:archive_email"),
                            settings=load_policy_settings(session, context.user_id), trust_tier="high_autonomy",
                            risk=risk(), now=context.clock())
    window.reload()
    lines = [window.activity.item(i).text() for i in range(window.activity.count())]
    assert "refused" in lines[0] and "never spends money" in lines[0]
    assert "asked you" in lines[1] and "decided by your trust tier" in lines[1]


def test_rejecting_what_was_answered_elsewhere_says_so_and_refreshes(setup, monkeypatch):
    context, window, _controller = setup
    approval = queue(context, action(key="sig-9:archive_email"))
    window.reload()
    Intents(context).reject(approval, "from the terminal")  # the CLI answered first
    monkeypatch.setattr(window, "ask_note", lambda: ("", True))
    window.reject_button.click()
    assert "already rejected" in window.message.text()
    assert window.pending.count() == 0


def test_an_open_approvals_window_follows_changes_made_elsewhere(qtbot, context):
    """A new approval (a poll, the CLI) appears in the open window at the next change, and the
    person's selection stays where it was."""
    first = queue(context, action(key="gmail:m1:archive_email"))
    with windows(qtbot, context) as (_, window, controller):
        window.show()
        window.reload()
        assert window.pending.count() == 1 and window.selected().id == first
        queue(context, action(key="gmail:m2:archive_email"))
        controller.refresh()
        assert window.pending.count() == 2
        assert window.selected().id == first, "the person's place is kept"
        window.hide()
        queue(context, action(key="gmail:m3:archive_email"))
        controller.refresh()
        assert window.pending.count() == 2, "a closed window reads nothing"


def test_the_approvals_window_opens_whole_on_the_screen_with_every_item_readable(setup):
    """It opened partly off-screen (560×310) and cut its third item mid-line."""

    context, window, controller = setup
    for n in range(3):
        queue(context, action(key=f"gmail:m{n}:archive_email"))
    window.hide()
    window.move(5000, 5000)  # where an icon at the screen's edge would have it open
    controller.open_approvals_window()
    free = window.screen().availableGeometry()
    assert free.contains(window.frameGeometry()), (free, window.frameGeometry())
    assert window.pending.count() == 3
    window.pending.fit_items()
    for row in range(window.pending.count()):
        item = window.pending.item(row)
        shown = window.pending.visualItemRect(item)
        card = window.pending.itemWidget(item)
        assert card.label.text() == pending_text(window, row) and "Answer by" in card.label.text()
        needed = card.label.heightForWidth(card.label.width())
        assert card.label.height() >= needed, (row, card.label.height(), needed)
        assert shown.height() >= card.heightForWidth(shown.width()), "the card is not cut"
        assert window.pending.viewport().rect().contains(shown), "the whole item is in view"
        assert card.approve.isVisible() and card.reject.isVisible(), "each item has its own Approve and Reject"


def test_each_item_has_its_own_approve_and_reject_and_the_keyboard_reaches_them(setup, qtbot, monkeypatch):
    """The buttons on an item act on that item, whichever is chosen; arrows and Alt+A/Alt+R work too."""
    from PySide6.QtTest import QTest

    context, window, _controller = setup
    ids = [queue(context, action(key=f"gmail:k{n}:archive_email")) for n in range(3)]
    window.reload()
    window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    window.pending.setCurrentRow(0)
    monkeypatch.setattr(window, "ask_note", lambda: ("not that one", True))
    window.pending.itemWidget(window.pending.item(2)).reject.click()  # the third, while the first is chosen
    assert status(context, ids[2]) == "rejected" and status(context, ids[0]) == "pending"
    window.pending.setFocus()
    QTest.keyClick(window.pending, Qt.Key.Key_Down)
    assert window.selected().id == ids[1]
    QTest.keyClick(window.pending, Qt.Key.Key_R, Qt.KeyboardModifier.AltModifier)  # a mnemonic clicks soon after
    qtbot.waitUntil(lambda: status(context, ids[1]) == "rejected")
    assert status(context, ids[0]) == "pending"
