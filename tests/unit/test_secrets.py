"""Tokens live only in the keyring: the configured backend is honoured, plaintext is never chosen
by the app itself, and a locked or missing keyring gives a clear error that leaks nothing."""

from __future__ import annotations

import keyring.backend
import keyring.errors
import pytest
from keyring.backends import fail
from keyrings.alt.file import PlaintextKeyring

from skytwin_desktop.connectors.secrets import (
    KeyringUnavailable,
    TokenStore,
    choose_backend,
)
from skytwin_desktop.domain import Connector

SECRET = "1//sandbox-refresh-secret-value"


class Recommended(keyring.backend.KeyringBackend):
    priority = 5  # type: ignore[assignment]

    def __init__(self):
        super().__init__()
        self.items = {}

    def get_password(self, service, username):
        return self.items.get((service, username))

    def set_password(self, service, username, password):
        self.items[(service, username)] = password

    def delete_password(self, service, username):
        if self.items.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError("missing")


class Locked(Recommended):
    def get_password(self, service, username):
        raise keyring.errors.KeyringLocked(f"locked while reading {SECRET}")

    def set_password(self, service, username, password):
        raise keyring.errors.KeyringLocked("locked")


def test_plaintext_is_never_picked_by_the_app(monkeypatch):
    monkeypatch.setattr(keyring.backend, "get_all_keyring", lambda: [PlaintextKeyring(), fail.Keyring()])
    with pytest.raises(KeyringUnavailable, match="No secure keyring"):
        choose_backend()


def test_the_best_recommended_backend_is_picked(monkeypatch):
    good = Recommended()
    monkeypatch.setattr(keyring.backend, "get_all_keyring", lambda: [PlaintextKeyring(), good])
    assert choose_backend() is good


def test_a_configured_backend_is_honoured_plaintext_included(monkeypatch, tmp_path):
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyrings.alt.file.PlaintextKeyring")
    assert isinstance(choose_backend(), PlaintextKeyring)
    store = TokenStore()
    store.save(1, Connector.GMAIL, SECRET)
    assert store.load(1, Connector.GMAIL) == SECRET
    assert store.load(1, Connector.CALENDAR) is None
    store.delete(1, Connector.GMAIL)
    store.delete(1, Connector.GMAIL)  # already gone: fine
    assert store.load(1, Connector.GMAIL) is None


def test_configured_fail_backend_is_an_error(monkeypatch):
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    with pytest.raises(KeyringUnavailable, match="cannot store secrets"):
        choose_backend()


def test_locked_keyring_is_a_clear_error_without_the_secret():
    store = TokenStore(Locked())
    with pytest.raises(KeyringUnavailable) as caught:
        store.load(1, Connector.GMAIL)
    assert "locked" in str(caught.value) and "GNOME Keyring" in str(caught.value)
    assert SECRET not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__, "the backend's text is not chained"
    with pytest.raises(KeyringUnavailable):
        store.save(1, Connector.GMAIL, SECRET)


def test_tokens_are_kept_per_person_and_connector():
    backend = Recommended()
    store = TokenStore(backend)
    store.save(1, Connector.GMAIL, "a")
    store.save(1, Connector.CALENDAR, "b")
    store.save(2, Connector.GMAIL, "c")
    assert backend.items == {("skytwin-desktop", "user-1:gmail"): "a", ("skytwin-desktop", "user-1:calendar"): "b",
                             ("skytwin-desktop", "user-2:gmail"): "c"}
