"""The keyring failing the app: locked, with no back-end at all, or the entry deleted behind the
app's back. Each ends in a clear state with the fix in words, the other service untouched, and
never a plaintext copy of the token anywhere."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import keyring.backend
import keyring.errors
import pytest
from keyring.backends import fail

from skytwin_desktop import words
from skytwin_desktop.clock import utc_now
from skytwin_desktop.composition import build_context
from skytwin_desktop.config import Config
from skytwin_desktop.connectors.secrets import TokenStore
from skytwin_desktop.domain import Connector, HealthStatus, ReadProblem
from skytwin_desktop.intents import Intents
from skytwin_desktop.outcomes import PollOutcome
from skytwin_desktop.ui.state import tray_state

pytestmark = pytest.mark.slow  # starts processes

GMAIL, CALENDAR = Connector.GMAIL, Connector.CALENDAR


class LockedKeyring(keyring.backend.KeyringBackend):
    """What Secret Service answers while the login keyring is locked."""

    priority = 1  # type: ignore[assignment]

    def get_password(self, service, username):
        raise keyring.errors.KeyringLocked("Failed to unlock the collection!")

    def set_password(self, service, username, password):
        raise keyring.errors.KeyringLocked("Failed to unlock the collection!")

    def delete_password(self, service, username):
        raise keyring.errors.KeyringLocked("Failed to unlock the collection!")


def _files_holding(root: Path, secret: str, keep: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file() and path != keep
            and secret.encode() in path.read_bytes()]


def _plaintext_file(tmp_path: Path) -> Path:
    (found,) = [path for path in tmp_path.rglob("keyring_pass.cfg")]
    return found


def test_an_entry_deleted_behind_the_apps_back_asks_for_a_reconnect_in_words(google, app, tmp_path):
    app.close()
    TokenStore().delete(1, GMAIL)  # someone tidied their keyring
    context = build_context(Config.from_env(), clock=utc_now)
    try:
        report = context.connectors.poll(GMAIL)
        assert (report.outcome, report.error_code) == (PollOutcome.PERMANENT_FAILURE, "token_missing")
        state = Intents(context).report()
        assert state.connectors[GMAIL].status is HealthStatus.NEEDS_REAUTH
        assert state.connectors[CALENDAR].status is HealthStatus.CONNECTED
        assert context.connectors.poll(CALENDAR).outcome is PollOutcome.OK, "the other service goes on"
        (banner,) = [b for b in tray_state(state).banners if b.kind == "reauth"]
        assert "no longer in the keyring" in banner.text and "Reconnect" in banner.text
        assert words.failure("token_missing") in banner.text
    finally:
        context.close()


def test_a_locked_keyring_is_shown_with_its_fix_and_nothing_falls_back_to_plaintext(google, app, tmp_path):
    app.close()
    secret = TokenStore().load(1, GMAIL)
    assert secret
    plaintext = _plaintext_file(tmp_path)
    context = build_context(Config.from_env(), clock=utc_now, keyring_backend=LockedKeyring())
    try:
        report = context.connectors.poll(GMAIL)
        assert report.outcome is PollOutcome.KEYRING_ERROR
        state = Intents(context).report()
        assert state.connectors[GMAIL].status is HealthStatus.CONNECTED, "still signed in: only the keyring is shut"
        assert state.connectors[GMAIL].problem is ReadProblem.KEYRING_LOCKED
        shown = tray_state(state)
        assert "the keyring is locked" in shown.tooltip
        assert any("unlock" in banner.text.lower() for banner in shown.banners), [b.text for b in shown.banners]
    finally:
        context.close()
    assert _files_holding(tmp_path, secret, keep=plaintext) == [], "the token is nowhere but the keyring"


def test_no_keyring_at_all_stops_a_sign_in_before_the_browser_opens(google, tmp_path):
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": f"{fail.__name__}.Keyring"}  # keyring's "none available"
    done = subprocess.run([sys.executable, "-m", "skytwin_desktop", "connect", "gmail"], capture_output=True,
                          text=True, env=env, timeout=120)
    assert done.returncode != 0 and done.stderr.count("\n") == 1, done.stderr
    assert "keyring" in done.stderr.lower() and "Traceback" not in done.stderr
    assert not any(path == "/o/oauth2/auth" for _, path, _ in google.requests), "no sign-in without a place for it"
