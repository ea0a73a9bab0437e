"""Diagnostics for bug reports: the real app on a data folder in the (test's) home, its real keyring
file and log, and the real notification server (dunst on a private bus). What is pasted into an issue
must carry no token, no keyring value and no home path, and must say in words what is wrong."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from skytwin_desktop import __version__
from skytwin_desktop.composition import build_context, open_app
from skytwin_desktop.config import Config
from skytwin_desktop.diagnostics import (
    NOT_RUNNING,
    DesktopFacts,
    NotificationProbe,
    collect,
    probe_notifications,
    recent_errors,
)
from skytwin_desktop.domain import Connector, HealthStatus, ReadProblem
from skytwin_desktop.instance import instance_paths
from skytwin_desktop.intents import Intents
from skytwin_desktop.store.connectors import record_reading
from skytwin_desktop.store.health import record_health
from tests.support.app_process import until
from tests.support.fake_sni import start_xvfb

ACCESS = "ya29.a0AfB_byFAKEaccessTOKENvalue0123456789"
REFRESH = "1//0gFAKErefreshTOKENvalue0123456789abcdef"
KEYRING_VALUE = "plain-words-nobody-would-guess-0451"
"""Stored in the keyring; shaped like nothing redaction knows, so only never reading it keeps it out."""
BARE_BUS = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>session</type><listen>unix:tmpdir=/tmp</listen><auth>EXTERNAL</auth>
<policy context="default">
<allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/>
</policy>
</busconfig>
"""
NO_BUS = NotificationProbe(problem="no session bus (not asked in this test)")


@pytest.fixture
def home() -> Path:
    return Path(os.environ["HOME"])


@pytest.fixture
def app(monkeypatch, clock):
    """The app as a person has it: data in the platform's folder under home, a keyring file."""
    monkeypatch.delenv("SKYTWIN_DATA_DIR")
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyrings.alt.file.PlaintextKeyring")
    intents = Intents(build_context(Config.from_env(), clock=clock))
    yield intents
    intents.close()


def log_line(app: Intents, level: str, text: str) -> None:
    """A line as it stands in the log file, written raw (as an older version or another handler might)."""
    with (app.paths.log_dir / "skytwin.log").open("a", encoding="utf-8") as log:
        log.write(f"2026-03-14 09:31:00,000 {level} MainThread skytwin_desktop.test: {text}\n")


def row(text: str, label: str) -> str:
    """The value on a text line "  label   value" (the first such line)."""
    found = re.search(rf"^  {re.escape(label)} +(.*)$", text, re.MULTILINE)
    assert found, f"no {label!r} line in:\n{text}"
    return found[1]


def test_no_token_keyring_value_or_authorization_header_reaches_the_report(app, home):
    app.context.connectors.tokens.save(app.context.user_id, Connector.GMAIL, KEYRING_VALUE)
    log_line(app, "WARNING", f"request failed: {{'Authorization': 'Bearer {ACCESS}'}} body=refresh_token={REFRESH}")
    log_line(app, "ERROR", f"Google said no to {ACCESS}\nTraceback (most recent call last):\n"
                           f"  Authorization: Bearer {ACCESS}\nValueError: refresh {REFRESH}")
    log_line(app, "INFO", "an ordinary day")

    report = collect(app, notifications=lambda: NO_BUS)
    for shown in (report.to_text(), json.dumps(report.to_json())):
        for secret in (ACCESS, REFRESH, KEYRING_VALUE, "ya29.", "1//0g", "Bearer ya29"):
            assert secret not in shown
        assert "request failed" in shown and "Google said no to [REDACTED]" in shown
        assert "ValueError: refresh [REDACTED]" in shown, "the traceback's last line is kept, scrubbed"
        assert "[REDACTED]]" not in shown, "a line the log scrubbed once is not mangled by the second pass"
        assert "an ordinary day" not in shown, "only warnings and errors"
        assert "keyrings.alt.file.PlaintextKeyring" in shown
    data = report.to_json()
    assert data["keyring"] == {"backend": "keyrings.alt.file.PlaintextKeyring", "problem": None,
                               "chosen_by": "PYTHON_KEYRING_BACKEND"}
    assert [entry.splitlines()[0].split(" ", 3)[2] for entry in data["recent_errors"]] == ["WARNING", "ERROR"]


def test_a_keyring_that_cannot_be_used_is_said_in_words(app, monkeypatch):
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    report = collect(app, notifications=lambda: NO_BUS)
    assert report.to_json()["keyring"]["backend"] is None
    assert row(report.to_text(), "back-end").startswith("none usable: The configured keyring backend cannot store")


def test_the_demo_names_its_in_memory_keyring_and_its_own_socket(monkeypatch, clock, data_dir):
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    app = open_app(Config.from_env(), demo=True, clock=clock)
    try:
        data = collect(app, demo=True, notifications=lambda: NO_BUS).to_json()
    finally:
        app.close()
    assert data["keyring"]["backend"] == "skytwin_desktop.demo.MemoryKeyring"
    assert data["keyring"]["chosen_by"].startswith("the demo")
    assert data["app"]["mode"].startswith("demo")
    assert data["paths"]["runtime_socket"] == str(instance_paths(data_dir, demo=True).socket)
    assert data["paths"]["runtime_socket"] != str(instance_paths(data_dir, demo=False).socket)


def test_paths_show_the_home_folder_as_a_tilde(app, home):
    log_line(app, "WARNING", f"could not write {home}/.local/share/skytwin-desktop/backups")
    report = collect(app, notifications=lambda: NO_BUS)
    text, data = report.to_text(), report.to_json()
    assert data["paths"]["data_folder"] == "~/.local/share/skytwin-desktop"
    assert data["paths"]["database"] == "~/.local/share/skytwin-desktop/skytwin.db"
    assert data["paths"]["log_file"] == "~/.local/share/skytwin-desktop/logs/skytwin.log"
    assert data["paths"]["runtime_socket"] == str(instance_paths(app.paths.data_dir, demo=False).socket)
    assert "could not write ~/.local/share/skytwin-desktop/backups" in text
    assert "~/.local/share/skytwin-desktop/skytwin.db" in text
    assert str(home) not in text and str(home) not in json.dumps(data)


def test_versions_come_from_the_installed_packages(app):
    data = collect(app, notifications=lambda: NO_BUS).to_json()["versions"]
    assert data["SkyTwin Desktop"] == __version__
    for library in ("PySide6", "SQLAlchemy", "Alembic", "APScheduler", "google-auth", "google-auth-oauthlib",
                    "keyring"):
        assert data[library][0].isdigit(), (library, data[library])
    assert data["Python"].startswith(f"{sys.version_info.major}.{sys.version_info.minor}.")


def test_connector_states_pause_and_approvals_are_in_words(app, clock):
    with app.context.session() as session:
        user = app.context.user_id
        record_health(session, user, Connector.GMAIL, HealthStatus.CONNECTED, at=clock())
        record_health(session, user, Connector.GMAIL, HealthStatus.NEEDS_REAUTH, at=clock.advance(minutes=5),
                      error_code="invalid_grant")
        record_health(session, user, Connector.CALENDAR, HealthStatus.CONNECTED, at=clock())
        record_reading(session, user, Connector.CALENDAR, at=clock(), problem=ReadProblem.UNREACHABLE)
    app.set_pause(True, "my very private reason")
    app.running = True

    report = collect(app, notifications=lambda: NO_BUS)
    text, data = report.to_text(), report.to_json()
    gmail = text.split("Connector: Gmail", 1)[1].split("\n\n", 1)[0]
    assert "needs reconnecting" in gmail and "no: needs reconnecting: Google access was revoked or expired" in gmail
    assert "invalid_grant (Google access was revoked or expired)" in gmail
    calendar = text.split("Connector: Calendar", 1)[1].split("\n\n", 1)[0]
    assert "no: Google is unreachable" in calendar
    assert data["connectors"]["gmail"]["status"] == "needs_reauth"
    assert data["connectors"]["gmail"]["last_failure_at"] == "2026-03-14T09:35:00.000Z"
    assert data["connectors"]["calendar"]["problem"]["code"] == "unreachable"
    assert data["connectors"]["calendar"]["reading"] is False
    assert data["app"]["auto_execute"].startswith("paused by the person")
    assert data["app"]["pending_approvals"] == 0 and data["app"]["running"] is True
    assert "my very private reason" not in text + json.dumps(data)

    app.running = False
    with app.context.session() as session:
        record_reading(session, app.context.user_id, Connector.CALENDAR, at=clock())
    calendar = collect(app, notifications=lambda: NO_BUS).to_json()["connectors"]["calendar"]
    assert (calendar["reading"], calendar["why_not"]) == (False, "the app is not running")


def test_tray_facts_only_from_the_running_app(app):
    absent = collect(app, notifications=lambda: NO_BUS)
    assert re.search(rf"^  Qt and system tray +{NOT_RUNNING}$", absent.to_text(), re.MULTILINE)
    assert absent.to_json()["desktop"]["from_running_app"] is False
    present = collect(app, DesktopFacts("xcb", "6.12.0", tray_available=False), notifications=lambda: NO_BUS)
    text = present.to_text()
    assert row(text, "Qt platform") == "xcb" and row(text, "Qt runtime") == "6.12.0"
    assert row(text, "system tray").startswith("not available")
    assert present.to_json()["desktop"].items() >= {"qt_platform": "xcb", "tray_available": False}.items()


def test_recent_errors_span_rotated_logs_newest_last_and_bounded(tmp_path):
    log = tmp_path / "skytwin.log"
    older = [f"2026-03-13 10:00:{n:02d},000 WARNING MainThread x: older {n}" for n in range(15)]
    (tmp_path / "skytwin.log.1").write_text("\n".join(older) + "\n")
    newer = [f"2026-03-14 10:00:{n:02d},000 ERROR MainThread x: newer {n}\n"
             f"2026-03-14 10:00:{n:02d},500 INFO MainThread x: fine {n}" for n in range(10)]
    trace = "\n".join(["2026-03-14 11:00:00,000 ERROR MainThread x: crashed", "Traceback (most recent call last):",
                       *[f'  File "f{n}.py", line {n}' for n in range(20)], "KeyError: 'x'"])
    log.write_text("\n".join([*newer, trace]) + "\n")
    found, note = recent_errors(log, 20)
    assert note == "" and len(found) == 20
    assert found[0].endswith("older 6") and found[-2].endswith("newer 9")
    assert found[-1].startswith("2026-03-14 11:00:00,000 ERROR") and found[-1].endswith("KeyError: 'x'")
    assert len(found[-1].splitlines()) == 8, "a long traceback keeps its first line and its tail"
    assert recent_errors(tmp_path / "none.log") == ((), "no log file yet")


# --- the notification server -------------------------------------------------------------------------
@pytest.fixture
def bare_bus(tmp_path):
    """A session bus that cannot start services on demand (a desktop's would start an installed
    notification server): on it, nothing provides notifications."""
    if shutil.which("dbus-daemon") is None:
        pytest.skip("needs dbus-daemon (Debian package dbus-daemon; .ci/run installs it)")
    (tmp_path / "bus.conf").write_text(BARE_BUS)
    daemon = subprocess.Popen(["dbus-daemon", f"--config-file={tmp_path / 'bus.conf'}", "--nofork",
                               "--print-address=1"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    yield daemon.stdout.readline().strip()
    daemon.terminate()
    daemon.wait(timeout=10)


@pytest.fixture
def dunst(private_bus):
    if shutil.which("dunst") is None or shutil.which("Xvfb") is None:
        pytest.skip("needs dunst and Xvfb (Debian packages dunst, xvfb; .ci/run installs them)")
    server, display = start_xvfb()
    config = Path(tempfile.mkdtemp(prefix="dunst-"))  # dunst's defaults, not the machine's dunstrc
    (config / "dunstrc").write_text("[global]\n")
    env = {**os.environ, "DISPLAY": display, "DBUS_SESSION_BUS_ADDRESS": private_bus}
    notifications = subprocess.Popen(["dunst", "-config", str(config / "dunstrc")], env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert until(lambda: probe_notifications(env).server is not None, limit=20), "dunst answers on the bus"
    yield env
    for process in (notifications, server):
        process.terminate()
        process.wait(timeout=10)
    shutil.rmtree(config, ignore_errors=True)


@pytest.mark.slow
def test_the_notification_server_is_named_with_its_capabilities(app, dunst):
    report = collect(app, env=dunst)
    server = report.notifications.server
    assert server is not None and server.name == "dunst"
    assert {"actions", "body"} <= set(server.capabilities)
    text = report.to_text()
    assert row(text, "server") == "dunst"
    assert {"actions", "body"} <= set(row(text, "capabilities").split(", "))
    assert report.to_json()["notifications"]["server"]["name"] == "dunst"


@pytest.mark.slow
def test_a_bus_without_a_notification_service_says_so(bare_bus):
    probe = probe_notifications({"DBUS_SESSION_BUS_ADDRESS": bare_bus})
    assert probe.server is None
    assert probe.problem == "no notification service (nothing on the bus provides it)"


@pytest.mark.parametrize("address", ["", "unix:path=/nonexistent/skytwin/bus"])
def test_no_session_bus_is_said_in_words(app, address):
    started = time.monotonic()
    report = collect(app, env={**os.environ, "DBUS_SESSION_BUS_ADDRESS": address})
    assert time.monotonic() - started < 2
    assert report.notifications.problem.startswith("no session bus")
    assert row(report.to_text(), "server").startswith("no session bus")
    assert report.to_json()["notifications"]["available"] is False


def test_a_bus_that_never_answers_is_given_up_on_within_two_seconds():
    folder = Path(tempfile.mkdtemp(prefix="bus-"))
    silent = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        silent.bind(str(folder / "bus"))
        silent.listen()
        started = time.monotonic()
        probe = probe_notifications({"DBUS_SESSION_BUS_ADDRESS": f"unix:path={folder / 'bus'}"})
        assert time.monotonic() - started <= 2.1
        assert probe.server is None and probe.problem.startswith("no session bus")
    finally:
        silent.close()
        shutil.rmtree(folder, ignore_errors=True)
