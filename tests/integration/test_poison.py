"""One odd message, event or Google answer never stops a connector: it is set aside with its reason
(shown in `status`), and everything else keeps flowing. Each case was found stopping a connector
for good, every poll, with `status` still saying `connected`. Against the real store and the local
Google sandbox."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from skytwin_desktop.composition import build_context
from skytwin_desktop.config import Config
from skytwin_desktop.connectors import gmail as gmail_reader
from skytwin_desktop.domain import Connector, TrustTier
from skytwin_desktop.intents import Intents
from skytwin_desktop.outcomes import PollOutcome as Outcome
from skytwin_desktop.store.models import DecisionLogEntry, SignalInboxRow
from skytwin_desktop.store.policy import set_tier
from skytwin_desktop.ui.state import TrayIcon, tray_state

pytestmark = pytest.mark.slow  # starts processes

GMAIL, CALENDAR = Connector.GMAIL, Connector.CALENDAR
NEWSLETTER = {"List-Unsubscribe": "<mailto:off@news.example>"}


@pytest.fixture
def app(google, clock):
    google_clock = clock
    context = build_context(Config.from_env(), clock=google_clock)
    yield context
    context.close()


def newsletter(google, subject: str, **extra) -> str:
    return google.deliver({"from": "digest@news.example", "subject": subject, "headers": NEWSLETTER, **extra})


def inbox_ids(app) -> set[str]:
    with app.reading() as session:
        return set(session.scalars(select(SignalInboxRow.signal_id)))


def report(app):
    return Intents(app).report()


def test_a_to_header_of_nested_parentheses_does_not_stop_gmail(app, google, data_dir):
    app.connectors.connect(GMAIL)
    log = data_dir / "logs" / "skytwin.log"
    before = log.stat().st_size
    odd = google.deliver({"from": "someone@example.com", "to": "(" * 600 + "ada@example.com" + ")" * 600,
                          "subject": "Hello?"})
    fine = newsletter(google, "Weekly digest")
    result = app.connectors.poll(GMAIL)
    assert result.succeeded, result
    assert {odd, fine} <= inbox_ids(app) | {entry.item_id for entry in report(app).set_aside}
    assert fine in inbox_ids(app)
    assert report(app).connectors[GMAIL].reading
    assert log.stat().st_size - before < 20_000, "no page-long traceback per poll"


def test_a_subject_with_a_lone_surrogate_is_stored_and_judged(app, google, clock):
    app.connectors.connect(GMAIL)
    app.twin.process_inbox()
    with app.session() as session:
        set_tier(session, app.user_id, TrustTier.LOW_AUTONOMY, reason="test", by_person=True, now=clock())
    newsletter(google, "Sale \ud800 today")
    newsletter(google, "Ordinary digest")
    assert app.connectors.poll(GMAIL).succeeded
    batch = app.twin.process_inbox()
    assert batch.signals == 2 and batch.executed == 2
    with app.reading() as session:
        targets = list(session.scalars(select(DecisionLogEntry.target).order_by(DecisionLogEntry.id.desc()).limit(2)))
        assert session.scalar(select(func.count()).select_from(SignalInboxRow)) == 0, "not retried every pass"
    assert any("Sale \ufffd today" in target for target in targets)
    assert any("Ordinary digest" in target for target in targets)


def test_a_signal_the_twin_cannot_judge_is_set_aside_and_the_rest_flows(app, google, monkeypatch):
    """Whatever else breaks a chunk (here: a proposer fault on one signal) costs only that signal."""
    from skytwin_desktop.twin import inbox

    app.connectors.connect(GMAIL)
    app.twin.process_inbox()
    bad = newsletter(google, "Poison")
    newsletter(google, "Good one")
    assert app.connectors.poll(GMAIL).succeeded
    real = inbox.propose

    def propose(signal, settings):
        if getattr(signal, "subject", "") == "Poison":
            raise RecursionError("maximum recursion depth exceeded")
        return real(signal, settings)

    monkeypatch.setattr(inbox, "propose", propose)
    batch = app.twin.process_inbox()
    assert batch.signals == 2 and batch.queued == 1
    assert inbox_ids(app) == set()
    (entry,) = [e for e in report(app).set_aside if e.item_id == bad]
    assert entry.subject == "Poison" and entry.sender == "digest@news.example"
    assert "RecursionError" in entry.reason
    assert app.twin.process_inbox().signals == 0, "set aside, not retried on every pass"


def test_a_zero_length_invite_never_asks_calendar_for_an_empty_range(app, google, clock):
    app.connectors.connect(CALENDAR)
    start = clock() + timedelta(days=1)
    google.add_event({"summary": "Blink", "organizer": {"email": "someone@other.example"},
                      "start": start, "end": start,
                      "attendees": [{"email": "ada@example.com", "responseStatus": "needsAction"},
                                    {"email": "someone@other.example", "organizer": True}]})
    for _ in range(2):
        result = app.connectors.poll(CALENDAR)
        assert result.succeeded, result
    ranges = [(q.get("timeMin"), q.get("timeMax")) for m, p, q in google.requests
              if p.endswith("/events") and "timeMin" in q]
    assert all(low != high for low, high in ranges)


def test_more_than_five_thousand_changed_events_resume_instead_of_failing(app, google, clock):
    app.connectors.connect(CALENDAR)
    start = clock() + timedelta(days=30)
    for n in range(5_100):
        google.add_event({"summary": f"Import {n}", "start": start + timedelta(minutes=n),
                          "end": start + timedelta(minutes=n + 1)})
    first = app.connectors.poll(CALENDAR)
    assert first.succeeded, first
    second = app.connectors.poll(CALENDAR)
    assert second.succeeded, second
    assert first.signals + second.signals == 5_100, "every change once, resumed where it stopped"
    assert app.connectors.poll(CALENDAR).signals == 0


def test_a_gmail_history_longer_than_a_poll_reads_is_resumed_not_skipped(app, google, monkeypatch):
    monkeypatch.setattr(gmail_reader, "HISTORY_PAGE_CAP", 2)  # 2 pages of 100 per poll
    app.connectors.connect(GMAIL)
    delivered = {newsletter(google, f"Issue {n}") for n in range(250)}
    seen = 0
    for _ in range(3):
        result = app.connectors.poll(GMAIL)
        assert result.succeeded
        seen += result.signals
    assert seen == 250 and delivered <= inbox_ids(app)


def test_a_truncated_token_answer_is_a_google_error_not_a_crash(app, google):
    app.connectors.connect(GMAIL)
    app.connectors.close()  # the next poll must refresh its access token
    google.malformed_next("/token")
    result = app.connectors.poll(GMAIL)
    assert result.outcome is Outcome.TRANSIENT_FAILURE and result.error_code == "malformed_response"
    assert report(app).connectors[GMAIL].problem is not None
    assert app.connectors.poll(GMAIL).succeeded


def test_a_history_record_without_an_id_is_set_aside_and_the_rest_arrives(app, google):
    app.connectors.connect(GMAIL)
    good = newsletter(google, "Still here")
    odd_answer = {"history": [{"id": "1", "messagesAdded": [{"message": {}}]},
                              {"id": "2", "messagesAdded": "not a list"},
                              "not a record",
                              {"id": "3", "messagesAdded": [{"message": {"id": good, "threadId": good}}]}],
                  "historyId": "999999"}
    google.fail_next("/gmail/v1/users/me/history", 200, body=odd_answer)
    result = app.connectors.poll(GMAIL)
    assert result.succeeded, result
    assert good in inbox_ids(app)
    reasons = [entry.reason for entry in report(app).set_aside]
    assert len(reasons) == 3 and all("history" in reason for reason in reasons)
    assert report(app).connectors[GMAIL].reading


def test_a_message_or_event_of_an_odd_shape_is_set_aside_by_subject_and_sender(app, google, clock):
    app.connectors.connect(GMAIL)
    app.connectors.connect(CALENDAR)
    odd = newsletter(google, "Odd shape")
    fine = newsletter(google, "Fine shape")
    odd_message = {"id": odd, "threadId": odd, "labelIds": "INBOX",
                   "payload": {"headers": [{"name": "Subject", "value": "Odd shape"},
                                           {"name": "From", "value": "Digest <digest@news.example>"},
                                           {"name": "To"}]}}
    google.fail_next(f"/gmail/v1/users/me/messages/{odd}", 200, body=odd_message)
    assert app.connectors.poll(GMAIL).succeeded
    assert fine in inbox_ids(app) and odd not in inbox_ids(app)
    start = clock() + timedelta(days=2)
    google.add_event({"summary": "Fine event", "start": start, "end": start + timedelta(hours=1)})
    answer = {"items": [{"id": "weird1", "summary": "Weird event", "attendees": "everyone",
                         "organizer": {"email": "boss@corp.example"}}],
              "nextSyncToken": "will-not-work"}
    google.fail_next("/calendar/v3/calendars/primary/events", 200, body=answer)
    assert app.connectors.poll(CALENDAR).succeeded
    entries = {entry.item_id: entry for entry in report(app).set_aside}
    assert entries[odd].subject == "Odd shape" and entries[odd].sender == "digest@news.example"
    assert entries["weird1"].subject == "Weird event" and entries["weird1"].sender == "boss@corp.example"
    assert tray_state(report(app)).icon is TrayIcon.LISTENING, "the rest is read: still listening"


def test_set_aside_items_are_listed_by_status(google):
    def run(*args):
        return subprocess.run([sys.executable, "-m", "skytwin_desktop", *args], capture_output=True, text=True,
                              timeout=120)

    assert run("connect", "gmail").returncode == 0
    odd = newsletter(google, "Cannot be read")
    google.fail_next(f"/gmail/v1/users/me/messages/{odd}", 200,
                     body={"id": odd, "payload": {"headers": [{"name": "Subject", "value": "Cannot be read"},
                                                               {"name": "From", "value": "x@news.example"}]},
                           "internalDate": "soon"})
    polled = run("poll-once")
    assert polled.returncode == 0, polled.stdout + polled.stderr
    status = json.loads(run("status", "--json").stdout)
    assert status["connectors"]["gmail"]["set_aside"] == 1
    assert status["set_aside"][0]["subject"] == "Cannot be read"
    assert 'Gmail: "Cannot be read" from x@news.example' in run("status").stdout


def test_set_aside_items_are_tried_again_after_an_update(app, google):
    """An item an older SkyTwin could not read is read again by this one at its next poll, from what
    was kept; one it could not judge goes back to the twin at its next pass."""
    from sqlalchemy import update

    from skytwin_desktop.domain import SetAsideStage
    from skytwin_desktop.signals import SetAside
    from skytwin_desktop.store.models import SetAsideItem
    from skytwin_desktop.store.set_aside import set_aside

    app.connectors.connect(GMAIL)
    app.twin.process_inbox()
    raw = {"id": "m-old", "threadId": "m-old", "labelIds": ["INBOX", "UNREAD"], "snippet": "",
           "payload": {"headers": [{"name": "Subject", "value": "Kept from before"},
                                   {"name": "From", "value": "digest@news.example"},
                                   {"name": "List-Unsubscribe", "value": "<mailto:x@news.example>"}]}}
    with app.session() as session:
        set_aside(session, app.user_id, [SetAside(GMAIL, "m-old", "could not be read", "Kept from before",
                                                  "digest@news.example", raw)], SetAsideStage.READ)
        session.execute(update(SetAsideItem).values(app_version="0.0.1"))  # set aside by an older version
    assert [e.item_id for e in report(app).set_aside] == ["m-old"]
    assert app.connectors.poll(GMAIL).signals == 1, "read again at the next poll"
    batch = app.twin.process_inbox()
    assert batch.signals == 1
    assert report(app).set_aside == ()
    assert any(item.target.startswith('"Kept from before"') for item in Intents(app).activity())
    assert app.twin.process_inbox().signals == 0
    signal = {"message_id": "m-judge", "thread_id": "m-judge", "sender": "digest@news.example", "sender_name": "",
              "subject": "Judged again", "snippet": "", "labels": ["INBOX"], "received_at": None,
              "list_unsubscribe": "<mailto:x@news.example>"}
    with app.session() as session:
        set_aside(session, app.user_id, [SetAside(GMAIL, "m-judge", "could not be judged", "Judged again",
                                                  "digest@news.example", signal)], SetAsideStage.JUDGE)
        session.execute(update(SetAsideItem).values(app_version="0.0.1"))
    assert app.twin.process_inbox().signals == 1
    assert report(app).set_aside == ()
