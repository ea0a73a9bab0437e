"""Notifications with a real notification server: dunst, under Xvfb, on a private bus. dunst
sends a click back only to the connection that called Notify; a Reconnect or Open Approvals
pressed there must reach the app. (The fake in test_notifications behaves the same way; this
checks the fake against the real thing.)"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, Qt, Signal

from skytwin_desktop.domain import Connector, HealthStatus
from skytwin_desktop.status import ConnectorState, StatusReport
from skytwin_desktop.ui.notify import DBusNotifier
from skytwin_desktop.ui.tray import TrayController
from tests.support.app_process import until
from tests.support.fake_dbus import start_private_bus
from tests.support.fake_sni import start_xvfb

pytestmark = pytest.mark.slow  # starts processes

NEEDED = ("dunst", "dunstctl", "Xvfb", "dbus-daemon")


@pytest.fixture
def dunst(monkeypatch, request):
    """dunst on a private bus, with its built-in defaults or the `[global]` lines a test passes
    (indirect parametrisation)."""
    if any(shutil.which(tool) is None for tool in NEEDED):
        pytest.skip("needs dunst, Xvfb and dbus-daemon "
                    "(Debian packages dunst, xvfb, dbus-daemon; .ci/run installs them)")
    bus, screen = start_private_bus(), start_xvfb()
    assert bus is not None and screen is not None
    (daemon, address), (server, display) = bus, screen
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
    config = Path(tempfile.mkdtemp(prefix="dunst-"))  # dunst's defaults, not the machine's dunstrc
    (config / "dunstrc").write_text("[global]\n" + getattr(request, "param", ""))
    env = {**os.environ, "DISPLAY": display, "DBUS_SESSION_BUS_ADDRESS": address}
    notifications = subprocess.Popen(["dunst", "-config", str(config / "dunstrc")], env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def ctl(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["dunstctl", *args], env=env, capture_output=True, text=True, timeout=30)

    assert until(lambda: ctl("is-paused").returncode == 0, limit=20), "dunst answers on the private bus"
    yield ctl
    for process in (notifications, server, daemon):
        process.terminate()
        process.wait(timeout=10)
    shutil.rmtree(config, ignore_errors=True)


def report(gmail: HealthStatus) -> StatusReport:
    return StatusReport(user_id=1, email=None, trust_tier="observer", operator_paused=False, user_paused=False,
                        paused_at=None, paused_reason=None, pending_approvals=1,
                        connectors={Connector.GMAIL: ConnectorState(gmail, "invalid_grant"),
                                    Connector.CALENDAR: ConnectorState(HealthStatus.CONNECTED)})


class Bridge(QObject):
    clicked = Signal(str, str)


def test_reconnect_and_open_approvals_pressed_in_dunst_reach_the_app(qtbot, dunst):
    reconnects = []
    bridge = Bridge()
    notifier = DBusNotifier.connect(on_action=bridge.clicked.emit, on_closed=lambda tag: None)
    assert notifier is not None, "dunst is the notification service"
    controller = TrayController(lambda: report(HealthStatus.NEEDS_REAUTH), notifier=notifier,
                                reconnect=reconnects.append)
    qtbot.addWidget(controller.window)
    bridge.clicked.connect(controller.notification_action, Qt.ConnectionType.QueuedConnection)
    assert until(lambda: dunst("count", "displayed").stdout.strip() == "1", limit=10), "the re-auth warning"
    assert dunst("action", "0").returncode == 0  # what a click on it does
    qtbot.waitUntil(lambda: reconnects == [Connector.GMAIL], timeout=10_000)

    assert dunst("close-all").returncode == 0
    assert until(lambda: dunst("count", "displayed").stdout.strip() == "0", limit=10)
    opened = []
    controller.open_approvals_window = lambda: opened.append(True)
    controller._announce("approvals", "An action waits for your approval", "Archive the digest",
                         ("open-approvals", "Open Approvals"), persistent=False)
    assert until(lambda: dunst("count", "displayed").stdout.strip() == "1", limit=10)
    assert dunst("action", "0").returncode == 0
    qtbot.waitUntil(lambda: opened == [True], timeout=10_000)
    controller.shutdown()


@pytest.mark.parametrize(("dunst", "sent"), [
    ("markup = full\n", "Archive: &lt;b&gt;Pay&lt;/b&gt; &amp; &lt;i&gt;now&lt;/i&gt;"),  # Debian's dunstrc
    ("markup = no\n", "Archive: <b>Pay</b> & <i>now</i>"),  # then dunst shows the text as it is
], indirect=["dunst"])
def test_mail_text_reaches_dunst_as_text_whether_or_not_it_reads_markup(qtbot, dunst, sent):
    """dunst advertises body-markup only when its configuration reads markup (Debian's does, as the
    fake in test_notifications does): then a subject's tags are escaped, otherwise sent as written."""
    notifier = DBusNotifier.connect(on_action=lambda *a: None, on_closed=lambda tag: None)
    assert notifier is not None
    notifier.show("approvals", "An action waits for your approval", "Archive: <b>Pay</b> & <i>now</i>",
                  persistent=False)
    assert until(lambda: dunst("count", "displayed").stdout.strip() == "1", limit=10)
    assert dunst("close-all").returncode == 0
    history = json.loads(dunst("history").stdout)["data"][0]
    assert [item["body"]["data"] for item in history] == [sent]
    notifier.shutdown()
