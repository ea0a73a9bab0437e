"""Configuration, read once at start from the environment into one immutable object.

Every knob is an environment variable so the tray app, the CLI, the sandbox and the tests agree
without a config file that could drift (or leak a token).
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from skytwin_desktop.errors import ConfigError
from skytwin_desktop.paths import default_data_dir

MIN_POLL_INTERVAL = 5
DEFAULT_POLL_INTERVAL = 60
_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no", ""}
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
_LOOPBACK_NAMES = {"localhost"}
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_HOST = re.compile(rf"^(?:{_LABEL}(?:\.{_LABEL})*|[0-9A-Fa-f:.]+)$")


@dataclass(frozen=True)
class Config:
    """Settings for one run of the app. Built by `Config.from_env`; never changed afterwards."""

    data_dir: Path
    """Holds the database, backups and logs. `SKYTWIN_DATA_DIR`; default: the platform's user data dir."""

    log_level: str = "INFO"
    """`SKYTWIN_LOG_LEVEL`: DEBUG, INFO, WARNING or ERROR (any case)."""

    poll_interval: int = DEFAULT_POLL_INTERVAL
    """`SKYTWIN_POLL_INTERVAL`: seconds between connector polls, whole number, at least 5."""

    google_client_secrets: Path | None = None
    """`SKYTWIN_GOOGLE_CLIENT_SECRETS`: the desktop-client JSON from Google Cloud Console."""

    google_api_root: str | None = None
    """`SKYTWIN_GOOGLE_API_ROOT`: scheme://host[:port] used in place of every Google host, keeping
    Google's paths (/o/oauth2/auth, /token, /revoke, /gmail/v1/..., /calendar/v3/...). Plain http
    is accepted only for a loopback host (the local sandbox)."""

    auto_execute_disabled: bool = False
    """`SKYTWIN_AUTO_EXECUTE_DISABLED`: the operator kill switch; true/1/yes stops all auto-execution."""

    data_dir_from_env: bool = False
    """Whether SKYTWIN_DATA_DIR chose the data dir (`--demo` uses a throwaway one otherwise)."""

    @property
    def database_path(self) -> Path:
        return self.data_dir / "skytwin.db"

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def backup_dir(self) -> Path:
        return self.data_dir / "backups"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Config:
        """Read every setting; raise `ConfigError` naming the first malformed variable."""
        env = os.environ if env is None else env
        return cls(
            data_dir=_data_dir(env.get("SKYTWIN_DATA_DIR")),
            log_level=_log_level(env.get("SKYTWIN_LOG_LEVEL")),
            poll_interval=_poll_interval(env.get("SKYTWIN_POLL_INTERVAL")),
            google_client_secrets=_client_secrets(env.get("SKYTWIN_GOOGLE_CLIENT_SECRETS")),
            google_api_root=_api_root(env.get("SKYTWIN_GOOGLE_API_ROOT")),
            auto_execute_disabled=parse_switch(
                "SKYTWIN_AUTO_EXECUTE_DISABLED", env.get("SKYTWIN_AUTO_EXECUTE_DISABLED")
            ),
            data_dir_from_env=bool((env.get("SKYTWIN_DATA_DIR") or "").strip()),
        )


def parse_switch(name: str, raw: str | None) -> bool:
    """`true/1/yes` → on, `false/0/no`/unset → off, anything else is an error (fail loudly)."""
    if raw is None:
        return False
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{name}: expected one of true/1/yes or false/0/no, got {raw!r}")


def _expand(name: str, raw: str) -> Path:
    try:
        path = Path(raw).expanduser()
        return path if path.is_absolute() else Path.cwd() / path
    except (RuntimeError, OSError) as exc:  # "~nosuchuser/x", or no current folder any more
        raise ConfigError(f"{name}: expected a folder or file path, got {raw!r} ({exc})") from None


def _data_dir(raw: str | None) -> Path:
    if raw is None or not raw.strip():
        return default_data_dir()
    return _expand("SKYTWIN_DATA_DIR", raw)


def _log_level(raw: str | None) -> str:
    if raw is None or not raw.strip():
        return "INFO"
    level = raw.strip().upper()
    if level not in _LOG_LEVELS:
        raise ConfigError(f"SKYTWIN_LOG_LEVEL: expected one of {', '.join(_LOG_LEVELS)}, got {raw!r}")
    return level


def _poll_interval(raw: str | None) -> int:
    if raw is None or not raw.strip():
        return DEFAULT_POLL_INTERVAL
    try:
        seconds = int(raw.strip())
    except ValueError:
        seconds = None
    if seconds is None or seconds < MIN_POLL_INTERVAL:
        raise ConfigError(
            f"SKYTWIN_POLL_INTERVAL: expected a whole number of seconds, at least {MIN_POLL_INTERVAL}, got {raw!r}"
        )
    return seconds


def _client_secrets(raw: str | None) -> Path | None:
    if raw is None or not raw.strip():
        return None
    path = _expand("SKYTWIN_GOOGLE_CLIENT_SECRETS", raw)
    try:
        is_file = path.is_file()
    except OSError:
        is_file = False
    if not is_file:
        raise ConfigError(
            f"SKYTWIN_GOOGLE_CLIENT_SECRETS: expected the path of the client-secrets JSON file, "
            f"but {str(path)!r} is not a file"
        )
    return path.resolve()


def _api_root(raw: str | None) -> str | None:
    if raw is None or not raw.strip():
        return None
    expected = "SKYTWIN_GOOGLE_API_ROOT: expected scheme://host[:port] with no path"
    try:
        parts = urlsplit(raw.strip())
        port = parts.port
    except ValueError:
        raise ConfigError(f"{expected}, got {raw!r}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or not _HOST.match(parts.hostname):
        raise ConfigError(f"{expected}, got {raw!r}")
    if parts.path not in ("", "/") or parts.query or parts.fragment or "@" in parts.netloc:
        raise ConfigError(f"{expected}, got {raw!r}")
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise ConfigError(
            f"SKYTWIN_GOOGLE_API_ROOT: plain http is allowed only for a loopback host "
            f"(127.0.0.1, ::1, localhost), got {raw!r}"
        )
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{parts.scheme}://{host}" + (f":{port}" if port else "")


def is_loopback_host(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
