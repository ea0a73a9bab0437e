"""The store under another writer and under a vanishing file: reads never wait behind a writer, a
database held past the busy time-out ends a command in one line with exit 3, and a database
deleted or replaced under the running app stops it before it acts."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from skytwin_desktop.composition import build_context
from skytwin_desktop.config import Config
from skytwin_desktop.domain import Connector, TrustTier
from skytwin_desktop.errors import DatabaseGoneError
from skytwin_desktop.store.policy import set_tier
from tests.support.database import writer_holding


def test_status_reads_while_another_program_holds_a_write(cli, data_dir):
    assert cli("pause", "--reason", "before").code == 0
    with writer_holding(data_dir / "skytwin.db"):
        # Reads start with a plain BEGIN under WAL: had it waited, it would fail after the time-out.
        result = cli("status", "--json")
        assert result.code == 0, result.err
        assert json.loads(result.out)["pause"]["reason"] == "before"
        assert cli("approvals", "list").code == 0
        assert cli("activity").code == 0


def test_a_write_held_past_the_busy_timeout_is_one_line_and_exit_3(cli, data_dir):
    assert cli("status").code == 0
    with writer_holding(data_dir / "skytwin.db"):
        result = cli("pause")
    assert result.code == 3
    assert result.err.strip() == ("skytwin-desktop: The database is busy: another program holds it. "
                                  "Try again when it is done.")
    assert "Traceback" not in result.err
    assert json.loads(cli("status", "--json").out)["pause"]["user"] is False, "nothing half-done"


@pytest.mark.slow
def test_a_database_deleted_under_the_app_stops_it_before_it_acts(google, clock):
    """The app kept writing into the deleted file and carried out actions it then forgot."""
    context = build_context(Config.from_env(), clock=clock)
    try:
        context.connectors.connect(Connector.GMAIL)
        with context.session() as session:  # newsletters are archived without asking
            set_tier(session, context.user_id, TrustTier.LOW_AUTONOMY, reason="test", by_person=True, now=clock())
        for n in range(3):
            google.deliver({"from": "digest@news.example", "subject": f"Issue {n}",
                            "headers": {"List-Unsubscribe": "<mailto:x@news.example>"}})
        modifies_before = sum(1 for m, p, _ in google.requests if p.endswith("/modify"))
        database = context.config.database_path
        for suffix in ("", "-wal", "-shm"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)
        with pytest.raises(DatabaseGoneError, match="deleted or replaced"):
            context.connectors.poll(Connector.GMAIL)
        with pytest.raises(DatabaseGoneError):
            context.twin.process_inbox()
        assert sum(1 for m, p, _ in google.requests if p.endswith("/modify")) == modifies_before
    finally:
        context.close()


def test_a_database_replaced_under_the_app_is_noticed(context):
    database = context.config.database_path
    copy = database.with_name("elsewhere.db")
    with sqlite3.connect(database) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    copy.replace(database)  # same name, another file
    with pytest.raises(DatabaseGoneError), context.reading() as session:
        session.execute(text("SELECT 1"))


def test_a_new_connection_never_creates_a_new_file_where_the_database_went_missing(context):
    """A connection opened after the deletion (a new thread, a refresh) used to create an empty
    database in its place and go on there."""
    database = context.config.database_path
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    context.engine.dispose()  # every connection from now on is a new one
    with pytest.raises(DatabaseGoneError), context.reading() as session:
        session.execute(text("SELECT 1"))
    assert not database.exists()
