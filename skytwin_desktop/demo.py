"""`skytwin-desktop --demo`: the whole app against the built-in Google sandbox, no Google account.

The sandbox runs in-process on 127.0.0.1; sign-ins are answered by a stand-in browser (the
sandbox consents by itself); tokens go to an in-memory keyring unless the person configured one;
data goes to a throwaway folder unless SKYTWIN_DATA_DIR is set.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
import tempfile
import threading
import urllib.request
import webbrowser
from pathlib import Path

import keyring.backend
import keyring.core

from skytwin_desktop.config import Config

log = logging.getLogger(__name__)


class MemoryKeyring(keyring.backend.KeyringBackend):
    """Keeps the sandbox's throwaway tokens in memory only, for the demo."""

    priority = 0  # never chosen by keyring itself

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # keyring's own __init__ has no annotations
        self._items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self._items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self._items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self._items.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError("not found")


class SandboxBrowser(webbrowser.BaseBrowser):
    """Follows the sign-in link in the background, as a person clicking "Allow" would."""

    def open(self, url: str, new: int = 0, autoraise: bool = True) -> bool:
        threading.Thread(target=self._visit, args=(url,), name="demo-browser", daemon=True).start()
        return True

    @staticmethod
    def _visit(url: str) -> None:
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                response.read()
        except OSError as exc:
            log.warning("The demo browser could not finish the sign-in: %s", exc)


class Demo:
    def __init__(self, config: Config) -> None:
        from skytwin_desktop.sandbox import GoogleSandbox

        self.sandbox = GoogleSandbox().start()
        self._own_dir = None
        data_dir = config.data_dir
        if not config.data_dir_from_env:
            self._own_dir = Path(tempfile.mkdtemp(prefix="skytwin-demo-"))
            data_dir = self._own_dir
        secrets = self.sandbox.write_client_secrets(data_dir / "demo-client-secrets.json")
        self.config = dataclasses.replace(config, data_dir=data_dir, google_api_root=self.sandbox.url,
                                          google_client_secrets=secrets)
        self.keyring = None if (keyring.core.load_env() or keyring.core.load_config()) else MemoryKeyring()
        webbrowser.register("skytwin-sandbox", SandboxBrowser, preferred=True)
        log.info("Demo: Google sandbox at %s, data in %s", self.sandbox.url, data_dir)

    def close(self) -> None:
        self.sandbox.stop()
        if self._own_dir is not None:
            shutil.rmtree(self._own_dir, ignore_errors=True)
