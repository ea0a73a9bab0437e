"""The real app as a separate process: its environment against a local Google sandbox (signed in
through the real flow), starting it, waiting on it, and asking it to quit as a logout would.
For the tests, the screenshots and the quit benchmark."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from skytwin_desktop.sandbox import GoogleSandbox

FAKE_BROWSER = Path(__file__).with_name("fake_browser.py")


def connected_environment(sandbox: GoogleSandbox, data_dir: Path, **extra: str) -> dict[str, str]:
    """os.environ pointed at the sandbox (keyring file, stand-in browser, 5 s polls), with Gmail
    and Calendar connected by the app's own `connect` command."""
    env = dict(os.environ,
               SKYTWIN_DATA_DIR=str(data_dir),
               SKYTWIN_GOOGLE_API_ROOT=sandbox.url,
               SKYTWIN_GOOGLE_CLIENT_SECRETS=str(sandbox.write_client_secrets(data_dir / "client.json")),
               PYTHON_KEYRING_BACKEND="keyrings.alt.file.PlaintextKeyring",
               BROWSER=f"{sys.executable} {FAKE_BROWSER} %s",
               SKYTWIN_POLL_INTERVAL="5", **extra)
    for connector in ("gmail", "calendar"):
        subprocess.run([sys.executable, "-m", "skytwin_desktop", "connect", connector], env=env, check=True,
                       stdout=subprocess.DEVNULL, timeout=120)
    return env


def until(predicate: Callable[[], object], limit: float = 30.0, step: float = 0.05) -> bool:
    """Whether `predicate` came true within `limit` seconds (a bounded wait)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


@contextmanager
def app_process(env: Mapping[str, str], *args: str) -> Iterator[subprocess.Popen[str]]:
    """`skytwin-desktop [ARGS]` (the tray app) running with `env`; killed on the way out if still alive."""
    app = subprocess.Popen([sys.executable, "-m", "skytwin_desktop", *args], env=dict(env), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    try:
        yield app
    finally:
        if app.poll() is None:
            app.kill()
            app.wait(timeout=10)


def quit_app(app: subprocess.Popen[str], timeout: float = 30.0) -> int:
    """SIGTERM, as a logout sends, and the exit code."""
    app.send_signal(signal.SIGTERM)
    return app.wait(timeout=timeout)


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """`skytwin-desktop ARGS` as its own process, with this environment."""
    return subprocess.run([sys.executable, "-m", "skytwin_desktop", *args], capture_output=True, text=True,
                          timeout=120)
