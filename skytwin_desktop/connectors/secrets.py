"""Refresh tokens live in the OS keyring and nowhere else.

The backend is the one the person configured (PYTHON_KEYRING_BACKEND or keyring's config file),
whatever it is, plaintext included; otherwise the best *recommended* backend on the system.
We never fall back to a plaintext file on our own: with no secure keyring, connecting fails with
a message that says how to fix it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from skytwin_desktop.domain import Connector
from skytwin_desktop.errors import SkytwinError

if TYPE_CHECKING:
    import keyring.backend

SERVICE = "skytwin-desktop"
log = logging.getLogger(__name__)
_T = TypeVar("_T")
_FIX = ("Unlock or install your desktop's keyring (GNOME Keyring, KWallet, macOS Keychain, Windows Credential "
        "Manager), or choose one with PYTHON_KEYRING_BACKEND.")


class KeyringUnavailable(SkytwinError):
    """No keyring we may use, or it is locked. Connectors cannot work until this is fixed."""

    exit_code = 4


class KeyringLocked(KeyringUnavailable):
    """The keyring is there but locked: unlocking it is the fix."""


def choose_backend() -> keyring.backend.KeyringBackend:
    """The configured backend, or the best recommended one; never an unrecommended fallback.
    keyring loads here, when a sign-in is first read or written, not for every command."""
    import keyring.backend
    import keyring.core
    from keyring.backends import chainer, fail

    configured = keyring.core.load_env() or keyring.core.load_config()
    if configured is not None:
        if isinstance(configured, fail.Keyring):
            raise KeyringUnavailable(f"The configured keyring backend cannot store secrets. {_FIX}")
        return configured
    candidates = [
        backend for backend in keyring.backend.get_all_keyring()
        if keyring.core.recommended(backend) and not isinstance(backend, chainer.ChainerBackend | fail.Keyring)
    ]
    if not candidates:
        raise KeyringUnavailable(f"No secure keyring was found to keep your Google sign-in. {_FIX}")
    return max(candidates, key=lambda backend: backend.priority)


class TokenStore:
    """One refresh token per (person, connector). Values never appear in logs or errors."""

    def __init__(self, backend: keyring.backend.KeyringBackend | None = None) -> None:
        self._backend = backend

    @property
    def backend(self) -> keyring.backend.KeyringBackend:
        if self._backend is None:
            self._backend = choose_backend()
            log.info("Keyring backend: %s", type(self._backend).__name__)
        return self._backend

    @staticmethod
    def _name(user_id: int, connector: Connector) -> str:
        return f"user-{user_id}:{Connector(connector).value}"

    def save(self, user_id: int, connector: Connector, refresh_token: str) -> None:
        self._call("store", self.backend.set_password, SERVICE, self._name(user_id, connector), refresh_token)

    def load(self, user_id: int, connector: Connector) -> str | None:
        return self._call("read", self.backend.get_password, SERVICE, self._name(user_id, connector))

    def delete(self, user_id: int, connector: Connector) -> None:
        import keyring.errors

        try:
            self._call("remove", self.backend.delete_password, SERVICE, self._name(user_id, connector))
        except KeyringUnavailable as exc:
            if isinstance(exc.__cause__, keyring.errors.PasswordDeleteError):
                return  # nothing stored: already gone
            raise

    @staticmethod
    def _call(verb: str, method: Callable[..., _T], *args: str) -> _T:
        import keyring.errors

        try:
            return method(*args)
        except keyring.errors.KeyringLocked:
            raise KeyringLocked(
                f"The keyring is locked, so SkyTwin cannot {verb} your Google sign-in. {_FIX}") from None
        except keyring.errors.PasswordDeleteError as exc:
            raise KeyringUnavailable("nothing to remove") from exc
        except (keyring.errors.KeyringError, OSError) as exc:
            # The exception text is the backend's, never the secret: name only its type.
            raise KeyringUnavailable(
                f"The keyring refused to {verb} your Google sign-in ({type(exc).__name__}). {_FIX}"
            ) from None
