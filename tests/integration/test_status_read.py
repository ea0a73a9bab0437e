"""The status report has one reader in plain SQL (`store.status`), used inside the running app's
session and, with no app running, over a read-only `sqlite3` connection (`glance`). Both must give
the same report from the same file, and the light look must leave anything unusual to the full
opening, which reports it in words."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from datetime import timedelta

import pytest

from skytwin_desktop.config import Config
from skytwin_desktop.domain import Connector, HealthStatus, ReadProblem
from skytwin_desktop.glance import status_without_app
from skytwin_desktop.intents import Intents
from skytwin_desktop.signals import SetAside
from skytwin_desktop.store.connectors import record_reading
from skytwin_desktop.store.health import record_health
from skytwin_desktop.store.models import Approval, User
from skytwin_desktop.store.set_aside import set_aside
from skytwin_desktop.store.status import SET_ASIDE_LISTED
from skytwin_desktop.store.users import pause

GMAIL, CALENDAR = Connector.GMAIL, Connector.CALENDAR


def _approval(user_id: int, key: str, *, expires_at, status: str = "pending") -> Approval:
    return Approval(user_id=user_id, action_key=key, action_kind="archive_email", target=key, action={},
                    reason_code="tier_requires_approval", reason="Ask me first", decided_by="tier",
                    expires_at=expires_at, status=status)


@pytest.fixture
def lived_in(context):
    """A store with something in every part of the report."""
    now = context.clock()
    with context.session() as session:
        user = session.get(User, context.user_id)
        user.email, user.trust_tier = "ada@example.com", "suggest"
        record_health(session, context.user_id, GMAIL, HealthStatus.CONNECTED, at=now - timedelta(minutes=3))
        record_reading(session, context.user_id, GMAIL, at=now - timedelta(minutes=1),
                       problem=ReadProblem.UNREACHABLE, detail="Google cannot be reached",
                       retry_at=now + timedelta(minutes=4))
        record_health(session, context.user_id, CALENDAR, HealthStatus.NEEDS_REAUTH, at=now - timedelta(hours=2),
                      error_code="invalid_grant")
        record_reading(session, context.user_id, CALENDAR, at=now, problem=ReadProblem.UNREACHABLE, detail="ignored")
        pause(session, context.user_id, now=now - timedelta(minutes=30), reason="On holiday")
        session.add_all([_approval(context.user_id, "a1", expires_at=now + timedelta(hours=1)),
                         _approval(context.user_id, "a2", expires_at=now + timedelta(days=1)),
                         _approval(context.user_id, "a3", expires_at=now - timedelta(seconds=1)),
                         _approval(context.user_id, "a4", expires_at=now + timedelta(hours=1), status="approved")])
        set_aside(session, context.user_id,
                  [SetAside(GMAIL, f"m{n}", "could not be read", f"Subject {n}", "x@example.com")
                   for n in range(SET_ASIDE_LISTED + 3)], "read")
        set_aside(session, context.user_id, [SetAside(CALENDAR, "e1", "could not be judged", "Lunch")], "judge")
    return context


def test_the_light_look_reads_what_the_app_reports(lived_in):
    app = Intents(lived_in)  # not running: the report says nothing is being read
    full = app.report()
    light = status_without_app(Config.from_env(), clock=lived_in.clock)
    assert light == full
    assert light.email == "ada@example.com" and light.trust_tier == "suggest"
    assert light.user_paused and light.paused_reason == "On holiday"
    assert light.paused_at == lived_in.clock() - timedelta(minutes=30)
    assert light.pending_approvals == 2, "pending and not yet expired only"
    gmail, calendar = light.connectors[GMAIL], light.connectors[CALENDAR]
    assert gmail.status is HealthStatus.CONNECTED and gmail.problem is ReadProblem.UNREACHABLE
    assert gmail.problem_text == "Google cannot be reached" and gmail.retry_at is not None
    assert gmail.set_aside == SET_ASIDE_LISTED + 3
    assert calendar.status is HealthStatus.NEEDS_REAUTH and calendar.error_code == "invalid_grant"
    assert calendar.problem is None, "a reading problem counts only while connected"
    assert len(light.set_aside) == SET_ASIDE_LISTED and light.set_aside[0].item_id == "e1", "newest first"
    assert not light.running


def test_the_light_look_leaves_the_unusual_to_the_full_opening(context, data_dir):
    config = Config.from_env()
    assert status_without_app(config) is not None
    database = config.database_path
    with sqlite3.connect(database) as db:
        db.execute("UPDATE alembic_version SET version_num = '0004'")
    assert status_without_app(config) is None, "an older schema: the full opening migrates it first"
    with sqlite3.connect(database) as db:
        db.execute("UPDATE alembic_version SET version_num = '9999'")
    assert status_without_app(config) is None, "a newer one: the full opening refuses it in words"
    context.close()
    database.rename(database.with_suffix(".kept"))
    assert status_without_app(config) is None, "no database yet"
    database.write_bytes(b"not a database at all" * 100)
    assert status_without_app(config) is None
    assert database.read_bytes() == b"not a database at all" * 100, "left as it was"


def test_a_folder_it_cannot_write_goes_to_the_full_opening(context, data_dir):
    if os.geteuid() == 0:
        pytest.skip("root writes anywhere: the folder cannot be made read-only for this test")
    data_dir.chmod(0o500)
    try:
        assert status_without_app(Config.from_env()) is None
    finally:
        data_dir.chmod(0o700)


@pytest.mark.slow
def test_status_with_no_app_running_answers_without_sqlalchemy(context, data_dir):
    context.close()
    found = sorted(path.name for path in data_dir.iterdir())
    probe = ("import sys; from skytwin_desktop.cli import main; code = main(['status', '--json']); "
             "print(code, 'sqlalchemy' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "0 False"
    assert '"running": false' in done.stdout
    assert sorted(path.name for path in data_dir.iterdir()) == found, "a look leaves no -wal or -shm behind"
