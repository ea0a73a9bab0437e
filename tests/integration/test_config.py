"""Configuration: defaults, every variable's accepted forms, and one-line errors for bad values."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import platformdirs
import pytest

from skytwin_desktop.config import Config
from skytwin_desktop.errors import ConfigError


def test_defaults_use_the_platform_user_data_dir():
    config = Config.from_env({})
    assert config.data_dir == Path(platformdirs.user_data_dir("skytwin-desktop", appauthor=False))
    assert config.poll_interval == 60
    assert config.log_level == "INFO"
    assert config.google_client_secrets is None
    assert config.google_api_root is None
    assert config.auto_execute_disabled is False
    assert config.database_path == config.data_dir / "skytwin.db"


def test_defaults_follow_xdg_data_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.delenv("SKYTWIN_DATA_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert Config.from_env().data_dir == tmp_path / "xdg" / "skytwin-desktop"


def test_config_is_immutable():
    config = Config.from_env({})
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.poll_interval = 5  # type: ignore[misc]


def test_every_setting_is_read(tmp_path: Path):
    secrets = tmp_path / "client.json"
    secrets.write_text("{}")
    config = Config.from_env(
        {
            "SKYTWIN_DATA_DIR": str(tmp_path / "d"),
            "SKYTWIN_LOG_LEVEL": "debug",
            "SKYTWIN_POLL_INTERVAL": "5",
            "SKYTWIN_GOOGLE_CLIENT_SECRETS": str(secrets),
            "SKYTWIN_GOOGLE_API_ROOT": "http://127.0.0.1:8765/",
            "SKYTWIN_AUTO_EXECUTE_DISABLED": "YES",
        }
    )
    assert config.data_dir == tmp_path / "d"
    assert config.log_level == "DEBUG"
    assert config.poll_interval == 5
    assert config.google_client_secrets == secrets
    assert config.google_api_root == "http://127.0.0.1:8765"
    assert config.auto_execute_disabled is True


@pytest.mark.parametrize("raw", ["true", "1", "yes", "TRUE", " Yes "])
def test_kill_switch_on(raw: str):
    assert Config.from_env({"SKYTWIN_AUTO_EXECUTE_DISABLED": raw}).auto_execute_disabled is True


@pytest.mark.parametrize("raw", ["false", "0", "no", "", "NO"])
def test_kill_switch_off(raw: str):
    assert Config.from_env({"SKYTWIN_AUTO_EXECUTE_DISABLED": raw}).auto_execute_disabled is False


@pytest.mark.parametrize(
    "root, expected",
    [
        ("https://www.example.test", "https://www.example.test"),
        ("http://localhost:9000", "http://localhost:9000"),
        ("http://[::1]:9000", "http://[::1]:9000"),
        ("http://127.0.0.5", "http://127.0.0.5"),
    ],
)
def test_api_root_accepted(root: str, expected: str):
    config = Config.from_env({"SKYTWIN_GOOGLE_API_ROOT": root})
    assert config.google_api_root == expected


BAD_VALUES = [
    ("SKYTWIN_POLL_INTERVAL", "4", "at least 5"),
    ("SKYTWIN_POLL_INTERVAL", "sixty", "whole number"),
    ("SKYTWIN_POLL_INTERVAL", "60.5", "whole number"),
    ("SKYTWIN_AUTO_EXECUTE_DISABLED", "maybe", "true/1/yes or false/0/no"),
    ("SKYTWIN_LOG_LEVEL", "LOUD", "DEBUG, INFO, WARNING, ERROR"),
    ("SKYTWIN_GOOGLE_API_ROOT", "ftp://127.0.0.1", "scheme://host"),
    ("SKYTWIN_GOOGLE_API_ROOT", "https://example.test/some/path", "no path"),
    ("SKYTWIN_GOOGLE_API_ROOT", "http://example.test", "loopback"),
    ("SKYTWIN_GOOGLE_API_ROOT", "http://10.0.0.1:80", "loopback"),
    ("SKYTWIN_GOOGLE_API_ROOT", "https://host:notaport", "scheme://host"),
    ("SKYTWIN_GOOGLE_CLIENT_SECRETS", "/nonexistent/client.json", "client-secrets JSON"),
    ("SKYTWIN_GOOGLE_CLIENT_SECRETS", "/tmp/" + "x" * 300, "client-secrets JSON"),
    ("SKYTWIN_GOOGLE_CLIENT_SECRETS", "~nosuchuser-skytwin/client.json", "path"),
    ("SKYTWIN_DATA_DIR", "~nosuchuser-skytwin/data", "path"),
    ("SKYTWIN_GOOGLE_API_ROOT", "https://user:secret@example.test", "scheme://host"),
    ("SKYTWIN_GOOGLE_API_ROOT", "https://:secret@example.test", "scheme://host"),
    ("SKYTWIN_GOOGLE_API_ROOT", "https://exa mple.test", "scheme://host"),
]


@pytest.mark.parametrize("name, raw, hint", BAD_VALUES)
def test_malformed_value_names_the_variable(name: str, raw: str, hint: str):
    with pytest.raises(ConfigError) as caught:
        Config.from_env({name: raw})
    message = str(caught.value)
    assert message.startswith(f"{name}: ")
    assert hint in message
    assert "\n" not in message


@pytest.mark.parametrize("name, raw, hint", BAD_VALUES)
def test_cli_reports_config_error_in_one_line(cli, monkeypatch: pytest.MonkeyPatch, data_dir: Path, name, raw, hint):
    monkeypatch.setenv(name, raw)
    result = cli("status")
    assert result.code == 2
    assert result.out == ""
    assert result.err.count("\n") == 1
    assert result.err.startswith(f"skytwin-desktop: {name}: ")
    assert not data_dir.exists(), "a bad setting must not create or touch anything"


@pytest.mark.slow
def test_config_error_in_a_real_process_has_no_traceback(tmp_path: Path):
    env = {"SKYTWIN_DATA_DIR": str(tmp_path / "d"), "SKYTWIN_POLL_INTERVAL": "1", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-m", "skytwin_desktop", "status"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "skytwin-desktop: SKYTWIN_POLL_INTERVAL: expected a whole number of seconds, at least 5, got '1'"
    )
    assert "Traceback" not in done.stderr
