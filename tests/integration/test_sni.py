"""The tray over StatusNotifierItem (D-Bus), the protocol of KDE, GNOME's AppIndicator extension
and most current panels: the real app registers with a watcher, and a host reading the item sees
its state in words, its menu, and a CLI pause reaching it by the next poll."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support.app_process import app_process, quit_app, until
from tests.support.fake_dbus import start_private_bus
from tests.support.fake_sni import FakeWatcher, start_xvfb
from tests.support.old_database import build_old_database

pytestmark = pytest.mark.slow  # starts processes


@pytest.fixture
def desktop(monkeypatch):
    bus, screen = start_private_bus(), start_xvfb()
    if bus is None or screen is None:
        pytest.skip("needs dbus-daemon and Xvfb (Debian packages dbus-daemon, xvfb; .ci/run installs them)")
    daemon, address = bus
    server, display = screen
    watcher = FakeWatcher(address)
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
    yield watcher, display
    watcher.stop()
    for process in (daemon, server):
        process.terminate()
        process.wait(timeout=10)


def test_the_app_is_a_status_notifier_item_with_words_and_a_menu(desktop, data_dir):
    watcher, display = desktop
    env = {**os.environ, "QT_QPA_PLATFORM": "xcb", "DISPLAY": display, "SKYTWIN_POLL_INTERVAL": "5"}
    with app_process(env) as app:
        assert until(lambda: bool(watcher.items)), "the app registered with the StatusNotifierWatcher"
        assert watcher.item_property("Title") == "SkyTwin Desktop"
        first = watcher.item_property("ToolTip")[2]
        assert first in ("SkyTwin — starting…", "SkyTwin — not connected to Google"), "never a state not yet known"
        assert until(lambda: watcher.item_property("ToolTip")[2] == "SkyTwin — not connected to Google"), \
            "the state in words, once the app is up"
        assert watcher.item_property("IconPixmap"), "an icon drawn for the host"
        labels = watcher.menu_labels()
        assert {"Pause now…", "Approvals (0)", "Settings…", "Quit"} <= set(labels), labels
        paused = subprocess.run([sys.executable, "-m", "skytwin_desktop", "pause", "--reason", "lunch"], env=env,
                                capture_output=True, text=True, timeout=120)
        assert paused.returncode == 0, paused.stderr
        assert until(lambda: "paused" in watcher.item_property("ToolTip")[2]), "a CLI pause reaches the tray"
        assert "Resume…" in watcher.menu_labels()
        assert quit_app(app) == 0, app.stderr.read()


def test_the_icon_says_starting_until_the_app_behind_it_is_built(desktop, data_dir):
    """The icon comes first; while the app is still being built (here: a large database from an
    earlier version is backed up and migrated) it says "starting", with nothing to do but quit,
    and never a state not yet known."""
    data_dir.mkdir(mode=0o700, parents=True)
    build_old_database(data_dir / "skytwin.db", 40_000)
    watcher, display = desktop
    env = {**os.environ, "QT_QPA_PLATFORM": "xcb", "DISPLAY": display, "SKYTWIN_POLL_INTERVAL": "5"}
    with app_process(env) as app:
        assert until(lambda: bool(watcher.items)), "the app registered with the StatusNotifierWatcher"
        assert watcher.item_property("ToolTip")[2] == "SkyTwin — starting…"
        assert [label for label in watcher.menu_labels() if label] == ["SkyTwin — starting…", "Quit"]
        assert until(lambda: watcher.item_property("ToolTip")[2] == "SkyTwin — not connected to Google"), \
            "the real state once the database is ready"
        assert list((data_dir / "backups").glob("*.db")), "it was migrated meanwhile"
        assert quit_app(app) == 0
