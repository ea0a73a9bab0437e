"""The command line: status output, pause/resume, and clear one-line failures that touch nothing."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from skytwin_desktop import __version__
from skytwin_desktop.domain import Connector, HealthStatus
from skytwin_desktop.store.health import record_health
from tests.support.stamps import ISO_UTC


def test_version(cli):
    result = cli("--version")
    assert (result.code, result.out.strip()) == (0, f"skytwin-desktop {__version__}")


def test_status_json_shape_on_first_start(cli, data_dir: Path):
    result = cli("status", "--json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert set(report) == {"user", "pause", "connectors", "any_needs_reauth", "pending_approvals", "set_aside",
                           "running", "signing_in"}
    assert report["signing_in"] == [], "no sign-in waits"
    assert report["running"] is False, "no app runs: nothing is being read"
    assert set(report["user"]) == {"id", "email", "trust_tier"}
    assert report["user"]["trust_tier"] == "observer"
    assert report["pause"] == {"operator": False, "user": False, "paused_at": None, "reason": None}
    assert set(report["connectors"]) == {"gmail", "calendar"}
    for state in report["connectors"].values():
        assert state == {"status": "disabled", "error_code": None, "last_success_at": None, "last_failure_at": None,
                         "reading": False, "problem": None, "failing_since": None, "retry_at": None, "set_aside": 0}
    assert report["any_needs_reauth"] is False
    assert report["pending_approvals"] == 0
    assert (data_dir / "skytwin.db").is_file()


def test_status_json_reports_connector_health_with_iso_utc_times(cli, context, clock):
    with context.session() as session:
        record_health(session, context.user_id, Connector.CALENDAR, HealthStatus.CONNECTED, at=clock())
        record_health(session, context.user_id, Connector.GMAIL, HealthStatus.CONNECTED, at=clock())
        record_health(session, context.user_id, Connector.GMAIL, HealthStatus.NEEDS_REAUTH, at=clock.advance(hours=1),
                      error_code="invalid_grant")
    report = json.loads(cli("status", "--json").out)
    gmail, calendar = report["connectors"]["gmail"], report["connectors"]["calendar"]
    assert gmail["status"] == "needs_reauth" and gmail["error_code"] == "invalid_grant"
    assert gmail["last_success_at"] == "2026-03-14T09:30:00.000Z"
    assert gmail["last_failure_at"] == "2026-03-14T10:30:00.000Z"
    assert calendar["status"] == "connected" and calendar["last_failure_at"] is None
    assert ISO_UTC.match(calendar["last_success_at"])
    assert report["any_needs_reauth"] is True


def test_status_table_is_readable(cli):
    result = cli("status")
    assert result.code == 0
    assert "Trust tier   Just watch" in result.out and "observer" not in result.out, "words, not codes"
    assert re.search(r"^Gmail\s+not connected\s+never", result.out, re.M)
    assert re.search(r"^Calendar\s+not connected\s+never", result.out, re.M)


def test_pause_and_resume_persist_paused_at_and_reason(cli):
    paused = cli("pause", "--reason", "On holiday until Monday")
    assert paused.code == 0 and "PAUSED by you" in paused.out
    report = json.loads(cli("status", "--json").out)["pause"]
    assert report["user"] is True and report["operator"] is False
    assert report["reason"] == "On holiday until Monday"
    assert ISO_UTC.match(report["paused_at"])
    first_paused_at = report["paused_at"]

    again = cli("pause")
    assert again.code == 0
    kept = json.loads(cli("status", "--json").out)["pause"]
    assert kept["paused_at"] == first_paused_at, "pausing twice keeps the original time"
    assert kept["reason"] == "On holiday until Monday"

    resumed = cli("resume")
    assert resumed.code == 0 and "PAUSED" not in resumed.out
    assert json.loads(cli("status", "--json").out)["pause"] == {
        "operator": False, "user": False, "paused_at": None, "reason": None}


def test_pause_reason_longer_than_500_characters_is_refused(cli):
    result = cli("pause", "--reason", "x" * 501)
    assert result.code == 2
    assert result.err.count("\n") == 1 and "at most 500" in result.err
    assert json.loads(cli("status", "--json").out)["pause"]["user"] is False


def test_operator_switch_shows_in_status(cli, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SKYTWIN_AUTO_EXECUTE_DISABLED", "true")
    report = json.loads(cli("status", "--json").out)
    assert report["pause"]["operator"] is True
    assert "administrator" in cli("status").out


def test_migrate_command_reports_the_schema(cli, data_dir: Path):
    first = cli("migrate")
    assert first.code == 0 and "migrated from empty" in first.out
    second = cli("migrate")
    assert second.code == 0 and "nothing to do" in second.out


@pytest.mark.parametrize("args", [("frobnicate",), ("status", "--yaml"), ("pause", "--reason")])
def test_usage_mistakes_are_one_line(cli, args, data_dir: Path):
    result = cli(*args)
    assert result.code == 2
    assert result.err.count("\n") == 1 and result.err.startswith("skytwin-desktop")
    assert not data_dir.exists()


def test_unknown_command_names_it(cli):
    assert "unknown command 'frobnicate'" in cli("frobnicate").err


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("content", [b"PK\x03\x04 definitely a zip file" * 100,
                                     b"SQLite format 3\x00" + b"\x07" * 8000])
def test_corrupt_database_is_reported_and_left_unchanged(cli, data_dir: Path, content: bytes):
    data_dir.mkdir(mode=0o700)
    database = data_dir / "skytwin.db"
    database.write_bytes(content)
    before = sha(database)
    for command in (("status",), ("migrate",), ("pause",)):
        result = cli(*command)
        assert result.code == 3
        assert result.err.count("\n") == 1 and "left untouched" in result.err
        assert sha(database) == before
    assert sorted(p.name for p in data_dir.iterdir()) == ["logs", "skytwin.db"]


def test_database_newer_than_the_code_is_refused(cli, data_dir: Path):
    assert cli("status").code == 0
    import sqlite3

    with sqlite3.connect(data_dir / "skytwin.db") as db:
        db.execute("UPDATE alembic_version SET version_num = 'ffff9999'")
    db.close()
    before = sha(data_dir / "skytwin.db")
    result = cli("status")
    assert result.code == 3 and "newer SkyTwin Desktop" in result.err and result.err.count("\n") == 1
    assert sha(data_dir / "skytwin.db") == before


def test_data_dir_that_is_a_file_is_refused(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("keep me")
    monkeypatch.setenv("SKYTWIN_DATA_DIR", str(blocker))
    result = cli("status")
    assert result.code == 3 and "is not a folder" in result.err and result.err.count("\n") == 1
    assert blocker.read_text() == "keep me"
    monkeypatch.setenv("SKYTWIN_DATA_DIR", str(blocker / "inside"))
    result = cli("status")
    assert result.code == 3 and "Cannot create the data folder" in result.err


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc for a folder even root cannot write")
def test_unwritable_data_dir_is_refused(cli, monkeypatch: pytest.MonkeyPatch):
    # /proc/self is a real folder that nobody, root included, can create files in.
    monkeypatch.setenv("SKYTWIN_DATA_DIR", "/proc/self")
    result = cli("status")
    assert result.code == 3
    assert result.err.strip() == (
        "skytwin-desktop: Data folder /proc/self is not writable. Set SKYTWIN_DATA_DIR to a folder you can write."
    )


@pytest.mark.slow
def test_python_dash_m_is_the_same_command(tmp_path: Path):
    env = {**os.environ, "SKYTWIN_DATA_DIR": str(tmp_path / "d")}
    done = subprocess.run([sys.executable, "-m", "skytwin_desktop", "status", "--json"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["user"]["trust_tier"] == "observer"


def test_pause_reason_that_is_not_text_is_refused(cli):
    result = cli("pause", "--reason", "caf\udcff")
    assert result.code == 2 and "not valid text" in result.err and result.err.count("\n") == 1


def test_tray_without_a_display_says_so(cli, monkeypatch: pytest.MonkeyPatch):
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    result = cli()
    assert result.code == 1
    assert result.err.count("\n") == 1 and "No graphical session" in result.err


def test_logs_that_is_a_file_is_reported(cli, data_dir: Path):
    data_dir.mkdir()
    (data_dir / "logs").write_text("not a folder")
    result = cli("status")
    assert result.code == 3 and "Cannot write the log file" in result.err and result.err.count("\n") == 1


def test_dangling_database_link_is_reported(cli, data_dir: Path, tmp_path: Path):
    data_dir.mkdir()
    (data_dir / "skytwin.db").symlink_to(tmp_path / "gone.db")
    result = cli("status")
    assert result.code == 3 and "link to a missing file" in result.err
    assert not (tmp_path / "gone.db").exists()


@pytest.mark.slow
def test_undecodable_data_dir_prints_cleanly(tmp_path: Path):
    folder = os.fsencode(str(tmp_path)) + b"/caf\xe9"
    env = {**os.environ, "SKYTWIN_DATA_DIR": os.fsdecode(folder)}
    done = subprocess.run([sys.executable, "-m", "skytwin_desktop", "migrate"], env=env, capture_output=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert b"Traceback" not in done.stderr and b"Logging error" not in done.stderr
    assert b"caf" in done.stdout


def test_multi_line_integrity_report_becomes_one_line(cli, data_dir: Path):
    assert cli("status").code == 0
    database = data_dir / "skytwin.db"
    import sqlite3

    with sqlite3.connect(database) as db:
        db.executemany("INSERT INTO users (email, display_name) VALUES (?, ?)",
                       [(f"p{n}@example.com", "x" * 300) for n in range(300)])
        root = db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'users'").fetchone()[0]
        page = db.execute("PRAGMA page_size").fetchone()[0]
    db.close()
    data = bytearray(database.read_bytes())
    start = (root - 1) * page
    data[start + 12:start + 40] = b"\xff" * 28  # the table's cell pointers now point nowhere
    database.write_bytes(bytes(data))
    with sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True) as db:
        assert "\n" in db.execute("PRAGMA integrity_check(1)").fetchone()[0], "SQLite's own report is multi-line"
    db.close()
    before = sha(database)
    result = cli("status")
    assert result.code == 3
    assert result.err.count("\n") == 1, result.err
    assert sha(database) == before


@pytest.mark.slow
def test_diagnose_works_with_no_app_running_and_says_what_it_cannot_know(cli, data_dir):
    text = cli("diagnose")
    assert text.code == 0, text.err
    for section in ("Versions", "Paths", "Keyring", "Desktop", "Notifications", "App", "Connector: Gmail",
                    "Connector: Calendar"):
        assert f"\n{section}\n" in text.out, section
    assert "not running: start the app to see tray support" in text.out
    facts = json.loads(cli("diagnose", "--json").out)
    assert facts["app"]["running"] is False and facts["desktop"]["from_running_app"] is False
