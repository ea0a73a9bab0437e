"""The store on a disk that fills up: a command that must write says so in one line and exits 3
(no traceback, no "Logging error" from a log that cannot be written either); nothing is
corrupted, nothing lost, and work goes on once there is room. Runs on a small tmpfs, so only as
root (skipped otherwise)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


@pytest.fixture
def small_disk(tmp_path: Path):
    """A 4 MiB file system of its own."""
    mount = tmp_path / "small"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root; run as root to test a full disk")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs", str(mount)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def run(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "skytwin_desktop", *args], capture_output=True, text=True,
                          env={**os.environ, "SKYTWIN_DATA_DIR": str(data)}, timeout=120)


def fill(disk: Path, leave: int) -> Path:
    """Take all the room but about `leave` bytes."""
    filler = disk / "filler"
    descriptor = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            stats = os.statvfs(disk)
            room = stats.f_bavail * stats.f_frsize - leave
            if room <= 0:
                break
            os.write(descriptor, b"\0" * min(room, 1 << 20))
    except OSError:
        pass  # no room left at all
    finally:
        os.close(descriptor)
    return filler


@pytest.mark.parametrize("leave", [0, 20_000], ids=["no-room", "almost-full"])
def test_a_full_disk_is_one_line_exit_3_and_nothing_is_lost(small_disk, leave):
    data = small_disk / "data"
    assert run(data, "status").returncode == 0  # the database and the log are made
    assert run(data, "pause", "--reason", "first").returncode == 0
    with sqlite3.connect(data / "skytwin.db") as db:  # a long history, so the next write needs room
        db.execute("CREATE TABLE IF NOT EXISTS ballast (x BLOB)")
    filler = fill(small_disk, leave)
    failed = None
    for reason in (f"reason {n} " + "x" * 400 for n in range(40)):  # until a write needs more room
        shown = run(data, "pause", "--reason", reason)
        if shown.returncode != 0:
            failed = shown
            break
    assert failed is not None, "the disk never filled"
    assert failed.returncode == 3, failed.stderr
    assert failed.stderr.count("\n") == 1, failed.stderr
    assert "full" in failed.stderr and "Free some space" in failed.stderr, failed.stderr
    assert "Traceback" not in failed.stderr and "Logging error" not in failed.stderr
    assert "unexpected error" not in failed.stderr
    filler.unlink()
    again = run(data, "pause", "--reason", "after")
    assert again.returncode == 0, again.stderr
    with sqlite3.connect(data / "skytwin.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert db.execute("SELECT paused, paused_reason FROM autonomy_settings").fetchall() == [(1, "after")]


def test_the_running_app_shows_a_full_disk_and_goes_on_once_there_is_room(qtbot, small_disk, google, monkeypatch):
    """A poll cycle that cannot save shows it in the tray (icon, tooltip, status window) and
    polling goes on; the next cycle after space is freed clears it and acts on what waited."""
    from skytwin_desktop.clock import utc_now
    from skytwin_desktop.composition import build_context
    from skytwin_desktop.config import Config
    from skytwin_desktop.domain import Connector
    from skytwin_desktop.intents import Intents
    from skytwin_desktop.scheduler import PollScheduler
    from skytwin_desktop.ui.state import TrayIcon
    from skytwin_desktop.ui.tray import TrayController

    monkeypatch.setenv("SKYTWIN_DATA_DIR", str(small_disk / "data"))
    context = build_context(Config.from_env(), clock=utc_now)
    try:
        intents = Intents(context)
        intents.running = True
        intents.connect(Connector.GMAIL)
        controller = TrayController(intents.report)
        qtbot.addWidget(controller.window)
        news: list[object] = []
        scheduler = PollScheduler(intents, interval=3600, on_trouble=news.append)
        scheduler._run(Connector.GMAIL)
        assert news == [] and "listening to Gmail" in controller.state.tooltip
        filler = fill(small_disk, 0)
        for n in range(30):  # mail that must be stored
            google.deliver({"from": f"friend{n}@example.com", "subject": "Lunch? " + "x" * 2000, "body": "y" * 4000})
        scheduler._run(Connector.GMAIL)
        assert [type(item).__name__ for item in news] == ["DiskFullError"], news
        controller.troubled(news[-1])
        assert controller.state.icon is TrayIcon.ERROR
        assert "cannot save: the disk is full" in controller.state.tooltip
        assert any("Free some space" in banner.text for banner in controller.state.banners)
        assert not controller.stopped, "trouble that passes does not stop the app"
        filler.unlink()
        scheduler._run(Connector.GMAIL)
        assert news[-1] is None, "a cycle went through: the trouble is over"
        controller.troubled(None)
        assert controller.state.icon is not TrayIcon.ERROR and "cannot save" not in controller.state.tooltip
        assert intents.report().connectors[Connector.GMAIL].last_success_at is not None
        controller.shutdown()
    finally:
        context.close()


def test_a_read_only_data_folder_is_one_line_exit_3_and_work_resumes(small_disk):
    data = small_disk / "data"
    assert run(data, "pause", "--reason", "before").returncode == 0
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    try:
        for command in (("resume",), ("status",), ("poll-once",)):
            shown = run(data, *command)
            assert shown.returncode == 3, (command, shown.stderr)
            assert shown.stderr.count("\n") == 1 and "not writable" in shown.stderr, (command, shown.stderr)
            assert "Traceback" not in shown.stderr and "Logging error" not in shown.stderr
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)
    assert run(data, "resume").returncode == 0
    with sqlite3.connect(data / "skytwin.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert db.execute("SELECT paused FROM autonomy_settings").fetchall() == [(0,)]
