"""Sets the scene for the README's screenshots: a Google sandbox, both connectors signed in
through the real flow, then Gmail's access revoked at "Google", and the tray app running.

Run by docs/take-screenshots.sh inside a virtual screen; prints READY when the app is up and
stops everything when its standard input closes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from skytwin_desktop.sandbox import GoogleSandbox

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    data = Path(os.environ["SKYTWIN_DATA_DIR"])
    with GoogleSandbox() as sandbox:
        env = dict(os.environ,
                   SKYTWIN_GOOGLE_API_ROOT=sandbox.url,
                   SKYTWIN_GOOGLE_CLIENT_SECRETS=str(sandbox.write_client_secrets(data / "client.json")),
                   PYTHON_KEYRING_BACKEND="keyrings.alt.file.PlaintextKeyring",
                   BROWSER=f"{sys.executable} {ROOT / 'tests' / 'support' / 'fake_browser.py'} %s",
                   SKYTWIN_POLL_INTERVAL="5")
        for connector in ("gmail", "calendar"):
            subprocess.run([sys.executable, "-m", "skytwin_desktop", "connect", connector], env=env, check=True,
                           stdout=subprocess.DEVNULL, timeout=120)
        if os.environ.get("SCENE") == "revoked":
            sandbox.revoke_grant("gmail.modify")
            sandbox.expire_access_tokens()
        if os.environ.get("SCENE_PAUSE"):
            subprocess.run([sys.executable, "-m", "skytwin_desktop", "pause", "--reason", os.environ["SCENE_PAUSE"]],
                           env=env, check=True, stdout=subprocess.DEVNULL, timeout=120)
        app = subprocess.Popen([sys.executable, "-m", "skytwin_desktop"], env=env)
        print("READY", flush=True)
        sys.stdin.read()
        app.terminate()
        app.wait(timeout=10)


if __name__ == "__main__":
    main()
