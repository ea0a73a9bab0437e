"""SIGKILL at random moments (seeded) of the twin at work: `poll-once` over a mailbox of a few
hundred newsletters at a tier that archives them by itself, and `connect` mid-sign-in, 30 times
each. After
every kill the database passes SQLite's integrity check; in the end every message was archived
at Google exactly once, and no action is left half-done."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter

import pytest
from sqlalchemy import select

from skytwin_desktop.config import Config
from skytwin_desktop.domain import Connector
from skytwin_desktop.store.models import ActionRecord
from skytwin_desktop.store.policy import set_tier
from tests.support.app_process import until

pytestmark = pytest.mark.slow
MESSAGES = 200
KILLS = 30
LATENCY = 0.01
"""Seconds each Gmail request takes at the sandbox; real Google takes longer, the sandbox answers at once."""
NEWSLETTER = {"List-Unsubscribe": "<mailto:leave@news.example>"}


def _poll_once() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "skytwin_desktop", "poll-once"], env=dict(os.environ),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _states() -> dict[str, int]:
    with sqlite3.connect(Config.from_env().database_path) as db:
        return dict(db.execute("SELECT state, count(*) FROM action_records GROUP BY state").fetchall())


def _integrity() -> None:
    with sqlite3.connect(Config.from_env().database_path) as db:  # a writer's open, as the next start's
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]


def test_poll_once_killed_at_random_moments_acts_on_every_message_exactly_once(google, app):
    with app.session() as session:
        set_tier(session, app.user_id, "low_autonomy", reason="test", by_person=True, now=app.clock())
    app.connectors.poll(Connector.GMAIL)  # the starting point: what came before is not new
    ids = [google.deliver({"from": "digest@news.example", "subject": f"Issue {n}", "body": "x",
                           "headers": NEWSLETTER}) for n in range(MESSAGES)]
    app.close()
    google.stall_next("/gmail/v1", LATENCY, count=100_000)  # a network's round trip: the kills land mid-work
    chance = random.Random(4242)

    def archived() -> int:
        return sum(1 for method, path, _ in list(google.requests) if method == "POST" and path.endswith("/modify"))

    killed_mid_batch = left_started = 0
    for attempt in range(KILLS):
        process = _poll_once()
        if attempt % 3 == 0:  # at any moment: loading, reading Gmail, or acting
            time.sleep(chance.uniform(0.2, 2.0))
        else:  # while it acts at Google, a few actions further on than the last kill
            further = archived() + chance.randint(1, 12)
            until(lambda further=further, process=process: archived() >= further or process.poll() is not None,
                  limit=120, step=0.002)
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            killed_mid_batch += 0 < archived() < MESSAGES
        process.wait(timeout=60)
        _integrity()
        left_started += bool(_states().get("started"))
    assert killed_mid_batch >= KILLS // 2, "most kills came in the middle of the batch"
    assert left_started >= KILLS // 2, "they left actions started and not yet recorded done"
    for _ in range(5):  # then let it finish
        assert _poll_once().wait(timeout=300) == 0
        with app.session() as session:
            records = session.scalars(select(ActionRecord)).all()
        if len(records) == MESSAGES and all(record.state == "done" for record in records):
            break
    with app.session() as session:
        states = Counter(record.state for record in session.scalars(select(ActionRecord)))
    assert states == {"done": MESSAGES}, states
    archived = Counter(path.split("/")[-2] for method, path, _ in google.requests
                       if method == "POST" and path.endswith("/modify"))
    assert all("INBOX" not in google.message(message)["labelIds"] for message in ids)
    assert sorted(archived) == sorted(ids) and set(archived.values()) == {1}, \
        [m for m, count in archived.items() if count > 1]


def _connect() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "skytwin_desktop", "connect", "gmail"], env=dict(os.environ),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_connect_killed_at_random_moments_never_claims_a_connection_it_has_not(google):
    """Whatever moment a sign-in dies at, Gmail reads as connected only with its token kept, and
    the next sign-in completes."""
    from skytwin_desktop.connectors.secrets import TokenStore

    chance = random.Random(77)
    tokens = TokenStore()
    google.stall_next("/", 0.05, count=100_000)  # Google's round trips: the sign-in takes as long as a real one
    killed_mid_sign_in = 0
    for attempt in range(KILLS):
        seen = len(google.requests)
        process = _connect()
        if attempt % 3 == 0:  # at any moment from its start: loading, opening the browser
            time.sleep(chance.uniform(0.05, 0.8))
        else:  # after its first, second or third request to Google: the consent page, the token, the account
            further = seen + chance.randint(1, 3)
            until(lambda further=further, process=process: len(google.requests) >= further
                  or process.poll() is not None, limit=60, step=0.002)
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            killed_mid_sign_in += 1
        process.wait(timeout=60)
        if not Config.from_env().database_path.exists():
            continue  # killed before the database was made
        _integrity()
        shown = subprocess.run([sys.executable, "-m", "skytwin_desktop", "status", "--json"], capture_output=True,
                               text=True, timeout=60)
        assert shown.returncode == 0, shown.stderr
        state = json.loads(shown.stdout)["connectors"]["gmail"]["status"]
        assert state in ("disabled", "connected")
        if state == "connected":
            assert tokens.load(1, Connector.GMAIL), "connected means its token is kept"
    assert killed_mid_sign_in >= KILLS // 2, "most kills came while the sign-in was under way"
    assert _connect().wait(timeout=120) == 0
    assert subprocess.run([sys.executable, "-m", "skytwin_desktop", "poll-once"], timeout=120).returncode == 0
