"""The environment for running the real app as a separate process against a local Google
sandbox, signed in through the real flow (for the screenshots and the quit benchmark)."""

from __future__ import annotations

import os
import subprocess
import sys
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
