"""The tray over StatusNotifierItem (D-Bus), the protocol of KDE, GNOME's AppIndicator extension
and most current panels: the real app registers with a watcher, and a host reading the item sees
its state in words, its menu, and a CLI pause reaching it by the next poll."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.support.fake_notifications import start_private_bus
from tests.support.fake_sni import FakeWatcher, start_xvfb


def until(predicate, limit: float = 30.0) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:  # bounded
        if predicate():
            return True
        time.sleep(0.1)
    return False


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
    app = subprocess.Popen([sys.executable, "-m", "skytwin_desktop"], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    try:
        assert until(lambda: bool(watcher.items)), "the app registered with the StatusNotifierWatcher"
        assert watcher.item_property("Title") == "SkyTwin Desktop"
        assert watcher.item_property("ToolTip")[2] == "SkyTwin — listening", "the state in words"
        assert watcher.item_property("IconPixmap"), "an icon drawn for the host"
        labels = watcher.menu_labels()
        assert {"Pause auto-execution…", "Approvals (0)", "Settings…", "Quit"} <= set(labels), labels
        paused = subprocess.run([sys.executable, "-m", "skytwin_desktop", "pause", "--reason", "lunch"], env=env,
                                capture_output=True, text=True, timeout=120)
        assert paused.returncode == 0, paused.stderr
        assert until(lambda: "paused" in watcher.item_property("ToolTip")[2]), "a CLI pause reaches the tray"
        assert "Resume auto-execution" in watcher.menu_labels()
        app.send_signal(signal.SIGTERM)
        app.wait(timeout=30)
    finally:
        if app.poll() is None:
            app.kill()
    assert app.returncode == 0, app.stderr.read()
