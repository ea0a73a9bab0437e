"""One running app per data folder, and the CLI as its client: a second launch brings the first
forward and exits; commands are carried out by the running app over its local socket with the
same words and exit codes; a change made that way reaches the tray at once, not at the next poll;
garbage on the socket is answered and the app goes on; a killed app's successor takes over.
The real app in separate processes (offscreen Qt), as people run it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from skytwin_desktop.config import Config
from skytwin_desktop.instance import MAX_REQUEST, instance_paths
from tests.support.app_process import app_process, quit_app, until

pytestmark = pytest.mark.slow


def run(*args: str, env: dict[str, str] | None = None, timeout: int = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "skytwin_desktop", *args], capture_output=True, text=True,
                          timeout=timeout, env=env)


@pytest.fixture
def env(data_dir: Path) -> dict[str, str]:
    # A long poll interval: anything the tray shows within the test came by push, not by a poll.
    return {**os.environ, "QT_QPA_PLATFORM": "offscreen", "SKYTWIN_POLL_INTERVAL": "3600"}


def log_text(data_dir: Path) -> str:
    path = data_dir / "logs" / "skytwin.log"
    return path.read_text() if path.exists() else ""


def started(data_dir: Path, times: int = 1) -> bool:
    return log_text(data_dir).count("Listening for commands") >= times and \
        log_text(data_dir).count("Tray started") >= times


def shown(data_dir: Path) -> list[str]:
    """What the tray showed, in order (it logs every change of its words)."""
    return [line.split("Tray shows: ", 1)[1] for line in log_text(data_dir).splitlines() if "Tray shows: " in line]


def raw(path: Path, payload: bytes) -> list[dict]:
    """Send bytes to the app's socket as any local program could; its answer, line by line."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
        client.settimeout(30)
        client.connect(str(path))
        client.sendall(payload)
        data = b""
        while chunk := client.recv(65536):
            data += chunk
    return [json.loads(line) for line in data.splitlines()]


def test_a_second_launch_brings_the_first_forward_and_exits(env, data_dir):
    with app_process(env) as first:
        assert until(lambda: started(data_dir), limit=60)
        second = run(env=env, timeout=30)
        assert second.returncode == 0, second.stderr
        assert "already running" in second.stdout
        assert until(lambda: "Command from the socket: show the window" in log_text(data_dir))
        assert first.poll() is None
        assert log_text(data_dir).count("Tray started") == 1, "one app, one poller"
        assert log_text(data_dir).count("Polling every") == 1
        assert quit_app(first) == 0


def test_commands_are_carried_out_by_the_running_app_with_the_same_words_and_codes(env, data_dir):
    alone_status = run("status", "--json", env=env)
    assert json.loads(alone_status.stdout)["running"] is False
    with app_process(env) as app:
        assert until(lambda: started(data_dir), limit=60)
        paused = run("pause", "--reason", "from a terminal", env=env)
        assert paused.returncode == 0 and paused.stdout.startswith("Auto-execution: PAUSED by you just now")
        assert '- "from a terminal"' in paused.stdout
        assert "Command from the socket: pause" in log_text(data_dir)
        status = json.loads(run("status", "--json", env=env).stdout)
        assert status["running"] is True and status["pause"]["reason"] == "from a terminal"
        missing = run("approvals", "approve", "999", env=env)
        assert (missing.returncode, missing.stderr.strip()) == (2, "skytwin-desktop: There is no approval #999.")
        usage = run("approvals", "approve", "x", env=env)
        assert usage.returncode == 2 and "'x' is not a number" in usage.stderr
        tier = run("tier", "Handle small stuff", env=env)
        assert tier.stdout.strip() == "Trust tier changed from Just watch to Handle small stuff."
        assert run("tier", env=env).stdout.strip() == "Trust tier: Handle small stuff"
        assert run("migrate", env=env).returncode == 0
        assert run("resume", env=env).stdout.strip().startswith("Auto-execution: on")
        assert quit_app(app) == 0
    after = json.loads(run("status", "--json", env=env).stdout)
    assert after["running"] is False and after["pause"]["user"] is False and after["user"]["trust_tier"] == \
        "low_autonomy", "what the running app did is in the store"


def test_a_pause_from_the_cli_reaches_the_tray_at_once_not_at_the_next_poll(env, data_dir):
    with app_process(env) as app:
        assert until(lambda: started(data_dir), limit=60)
        assert shown(data_dir) == ["SkyTwin — not connected to Google"]
        assert run("pause", env=env).returncode == 0
        assert until(lambda: shown(data_dir)[-1] == "SkyTwin — not connected to Google; paused by you", limit=5), \
            "the tray shows it without waiting for the hourly poll"
        assert run("resume", env=env).returncode == 0
        assert until(lambda: shown(data_dir)[-1] == "SkyTwin — not connected to Google", limit=5), "and back, at once"
        assert quit_app(app) == 0


def test_garbage_on_the_socket_is_answered_and_the_app_goes_on(env, data_dir):
    place = instance_paths(Config.from_env(env).data_dir, demo=False)
    with app_process(env) as app:
        assert until(lambda: started(data_dir), limit=60)
        cases = {
            b"garbage\n": "not a line of JSON",
            b"[1, 2]\n": "not a JSON object",
            b'{"v": 2, "argv": ["status"]}\n': "unsupported protocol version",
            b'{"v": 1, "argv": "status"}\n': "'argv' must be a list of strings",
            b'{"v": 1, "argv": ["no-such-command"]}\n': "unknown command",
            b'{"v": 1, "argv": ["--demo", "status"]}\n': "only commands",
            b'{"v": 1, "argv": ["--help"]}\n': "",
            b"\xff\xfe\n": "not a line of JSON",
            b"x" * (MAX_REQUEST + 10): "longer than",
        }
        for payload, words in cases.items():
            answer = raw(place.socket, payload)
            assert answer[-1]["v"] == 1 and answer[-1]["exit"] in (0, 2), (payload[:40], answer)
            assert words in "".join(m.get("err", "") + m.get("out", "") for m in answer), (payload[:40], answer)
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as silent:
            silent.connect(str(place.socket))  # connects and says nothing, then goes away
        status = run("status", "--json", env=env)
        assert status.returncode == 0 and json.loads(status.stdout)["running"] is True
        assert app.poll() is None
        assert quit_app(app) == 0
    assert "Traceback" not in log_text(data_dir)


def test_a_killed_app_is_replaced_by_the_next_launch(env, data_dir):
    with app_process(env) as first:
        assert until(lambda: started(data_dir), limit=60)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    alone = run("status", "--json", env=env)
    assert json.loads(alone.stdout)["running"] is False, "a dead app's socket is not taken for a live one"
    with app_process(env) as second:
        assert until(lambda: started(data_dir, times=2), limit=60), log_text(data_dir)[-2000:]
        status = run("status", "--json", env=env)
        assert json.loads(status.stdout)["running"] is True
        assert quit_app(second) == 0


def test_demo_commands_reach_the_running_demo_tray(env):
    demo_env = {k: v for k, v in env.items() if k != "SKYTWIN_DATA_DIR"}
    with app_process(demo_env, "--demo") as app:
        place = instance_paths(Config.from_env(demo_env).data_dir, demo=True)
        assert until(lambda: place.socket.exists() and run("--demo", "status", "--json", env=demo_env,
                                                           timeout=60).returncode == 0, limit=90)
        status = json.loads(run("--demo", "status", "--json", env=demo_env).stdout)
        assert status["running"] is True
        assert {name: c["status"] for name, c in status["connectors"].items()} == {
            "gmail": "connected", "calendar": "connected"}, "the tray's own demo data, not a new throwaway one"
        assert run("--demo", "pause", env=demo_env).returncode == 0
        assert json.loads(run("--demo", "status", "--json", env=demo_env).stdout)["pause"]["user"] is True
        facts = json.loads(run("--demo", "diagnose", "--json", env=demo_env).stdout)
        assert facts["desktop"]["qt_platform"] == "offscreen", "the running app's own Qt facts, over the socket"
        assert facts["app"]["mode"].startswith("demo") and facts["app"]["running"] is True
        assert facts["keyring"]["backend"].endswith("MemoryKeyring")
        assert quit_app(app) == 0


def test_the_running_app_notices_its_database_deleted_and_stops_acting(env, data_dir):
    with app_process(env) as app:
        assert until(lambda: started(data_dir), limit=60)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{data_dir / 'skytwin.db'}{suffix}").unlink(missing_ok=True)
        assert until(lambda: "Stopped acting: The database" in log_text(data_dir), limit=10)
        assert until(lambda: "Polling stopped" in log_text(data_dir), limit=10)
        assert "Tray shows: SkyTwin — stopped: its database was deleted or replaced" in log_text(data_dir)
        status = run("status", env=env)
        assert status.returncode == 3 and "deleted or replaced" in status.stderr
        assert not (data_dir / "skytwin.db").exists(), "nothing written to a new file behind the person's back"
        assert app.poll() is None, "still there, saying what happened"
        assert quit_app(app) == 0


def test_the_command_line_loads_no_store_qt_or_google_code_before_it_must():
    """A command the running app answers (and a second launch) pays only for the client."""
    heavy = ("sqlalchemy", "google", "PySide6", "keyring", "alembic", "apscheduler", "requests", "jeepney")
    probe = ("import sys; from skytwin_desktop import cli; "
             f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({heavy!r})))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_the_sign_in_page_server_and_the_browser_load_only_for_a_sign_in():
    """What only a sign-in needs (the one-off page's HTTP server, the browser launcher), and the
    macOS login item's property lists, stay out of a running app that is not signing in: no module
    of the app loads them, except the demo's own sandbox and browser."""
    probe = ("import sys, importlib, pathlib, skytwin_desktop\n"
             "root = pathlib.Path(skytwin_desktop.__file__).parent\n"
             "for path in sorted(root.rglob('*.py')):\n"
             "    parts = path.relative_to(root).with_suffix('').parts\n"
             "    if parts[0] not in ('demo', 'sandbox') and parts[-1] != '__main__':\n"
             "        importlib.import_module('.'.join(('skytwin_desktop', *parts)).removesuffix('.__init__'))\n"
             "print(len([m for m in sys.modules if m.startswith('skytwin_desktop.')]), sorted({'webbrowser', "
             "'wsgiref', 'http.server', 'socketserver', 'plistlib'} & set(sys.modules)))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert done.returncode == 0, done.stderr
    count, loaded = done.stdout.strip().split(" ", 1)
    assert int(count) > 60, "every module of the app was imported"
    assert loaded == "[]"


def test_the_tray_loads_the_settings_and_approvals_windows_only_when_they_open():
    probe = ("import sys; import skytwin_desktop.composition, skytwin_desktop.ui.tray; "
             "print(sorted(m for m in sys.modules if m.startswith('skytwin_desktop.ui.')))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert done.returncode == 0, done.stderr
    loaded = done.stdout.strip()
    assert "skytwin_desktop.ui.tray" in loaded and "skytwin_desktop.ui.status_window" in loaded
    for window in ("settings_window", "rules_tab", "approvals_window"):
        assert f"skytwin_desktop.ui.{window}'" not in loaded, window


def test_status_with_no_app_running_loads_no_google_keyring_qt_or_alembic(data_dir):
    """Google and keyring code load with the first sign-in or poll, Alembic only when the schema
    must change, Qt only for the tray, SQLAlchemy only when the file needs more than a look."""
    probe = ("import sys; from skytwin_desktop.cli import main; main(['status']); main(['status']); "
             "print(sorted({m.split('.')[0] for m in sys.modules} & {'google', 'google_auth_oauthlib', 'keyring', "
             "'requests', 'oauthlib', 'PySide6', 'alembic', 'apscheduler', 'sqlalchemy'}))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "['alembic', 'sqlalchemy']", "the first start creates the schema"
    again = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert again.stdout.strip().splitlines()[-1] == "[]", again.stdout


def test_connect_from_the_cli_is_carried_out_by_the_running_app(google, env, data_dir):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "SKYTWIN_POLL_INTERVAL": "3600"}
    with app_process(env) as app:
        assert until(lambda: started(data_dir), limit=60)
        connected = run("connect", "gmail", env=env)
        assert connected.returncode == 0, connected.stderr
        told = connected.stdout.strip().splitlines()
        assert told[0] == "Sign in to Google for Gmail in your browser (SkyTwin waits up to 5 minutes). " \
                          "If it did not open, open this address there:", "streamed from the running app"
        assert told[1].startswith(f"{google.url}/o/oauth2/auth?") and told[-1] == "Gmail connected."
        assert "Command from the socket: connect" in log_text(data_dir)
        assert until(lambda: "Tray shows: SkyTwin — listening to Gmail" in log_text(data_dir), limit=5)
        status = json.loads(run("status", "--json", env=env).stdout)
        assert status["connectors"]["gmail"]["status"] == "connected"
        assert status["connectors"]["gmail"]["reading"] is True, "the running app reads it"
        assert quit_app(app) == 0
