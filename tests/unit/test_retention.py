"""Old history is forgotten once a day so the database is bounded by what the person keeps:
decisions, finished actions, answered approvals and handled items older than `history_days`, and
nothing that is still open or that steers the twin."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from skytwin_desktop.errors import InputError
from skytwin_desktop.intents import Intents
from skytwin_desktop.store.models import (
    ActionRecord,
    Approval,
    DecisionLogEntry,
    FeedbackEventRow,
    ProcessedSignal,
)
from skytwin_desktop.store.retention import forget_old_history


def _rows(context, model) -> int:
    with context.reading() as session:
        return session.scalar(select(func.count()).select_from(model))


def _add_history(context, age: timedelta, tag: str) -> None:
    at = context.clock() - age
    with context.session() as session:
        session.add_all([
            DecisionLogEntry(user_id=context.user_id, decided_at=at, action_kind="archive_email", target=tag,
                             allowed=True, requires_approval=False, confirmation="none", reason_code="auto_execute",
                             message="ok", decided_by="tier"),
            ActionRecord(user_id=context.user_id, action_key=f"gmail:{tag}:archive_email", action_kind="archive_email",
                         target=tag, action={}, state="done", started_at=at, finished_at=at),
            Approval(user_id=context.user_id, action_key=f"gmail:{tag}:label_email", action_kind="label_email",
                     target=tag, action={}, reason_code="x", reason="x", decided_by="tier", status="rejected",
                     expires_at=at + timedelta(days=1), resolved_at=at),
            Approval(user_id=context.user_id, action_key=f"gmail:{tag}-waiting:label_email",
                     action_kind="label_email", target=tag, action={}, reason_code="x", reason="x",
                     decided_by="tier", expires_at=context.clock() + timedelta(days=1)),
            ProcessedSignal(user_id=context.user_id, connector_name="gmail", signal_id=tag, processed_at=at),
            FeedbackEventRow(user_id=context.user_id, at=at, kind="rejected", action_kind="label_email"),
        ])


def test_history_older_than_kept_is_forgotten_once_a_day_and_open_work_stays(context, clock):
    _add_history(context, timedelta(days=200), "old")
    _add_history(context, timedelta(days=10), "recent")
    app = Intents(context)
    app.process_inbox()
    assert _rows(context, DecisionLogEntry) == 1, "the 90 days kept by default"
    assert _rows(context, ActionRecord) == 1, "the recent one"
    assert _rows(context, Approval) == 3, "the recent answer, and both still waiting"
    assert _rows(context, ProcessedSignal) == 1
    assert _rows(context, FeedbackEventRow) == 2, "what steers the trust tier is kept"
    _add_history(context, timedelta(days=200), "later")
    app.process_inbox()
    assert _rows(context, DecisionLogEntry) == 2, "once a day: the same day's later passes leave it"
    clock.advance(days=1)
    app.process_inbox()
    assert _rows(context, DecisionLogEntry) == 1, "the next day's first pass forgets it"


def test_the_person_chooses_how_long_history_is_kept(context, clock):
    _add_history(context, timedelta(days=200), "old")
    app = Intents(context)
    assert app.settings()["history_days"] == "90"
    app.save_setting("history_days", "365")
    app.process_inbox()
    assert _rows(context, DecisionLogEntry) == 1, "kept for a year"
    app.save_setting("history_days", 30)
    clock.advance(days=1)
    app.process_inbox()
    assert _rows(context, DecisionLogEntry) == 0
    with pytest.raises(InputError, match="one of 30, 90, 365, 3650 days"):
        app.save_setting("history_days", "7")
    assert app.settings()["history_days"] == "30"


def test_an_action_still_under_way_is_never_forgotten(context):
    """However old: a crash left it `started`, and the next start must still resolve it at Google."""
    old = context.clock() - timedelta(days=400)
    with context.session() as session:
        session.add(ActionRecord(user_id=context.user_id, action_key="gmail:m:archive_email",
                                 action_kind="archive_email", target="m", action={}, state="started",
                                 started_at=old))
    with context.session() as session:
        removed = forget_old_history(session, context.user_id, context.clock())
    assert removed["action_records"] == 0 and _rows(context, ActionRecord) == 1
