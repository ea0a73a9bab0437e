"""Start at login: the platform's own switch, read back every time rather than remembered.

The person can remove the entry, or turn it off in their desktop's settings, behind the app's back;
a stored preference would then say "on" while nothing starts. So the state is what is on disk (an
XDG autostart entry, a launchd agent) or in the registry (the Run key, with Task Manager's
"Disabled"), and turning it on writes the entry anew with the command of this installation.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol

from skytwin_desktop.desktop_entry import (
    APP_ID,
    DESKTOP_FILE,
    desktop_entry_text,
    home_dir,
    is_xdg,
    launch_command,
    program_exists,
    read_desktop_entry,
    remove_file,
    unescape_value,
    write_file,
    xdg_dir,
    xdg_dirs,
)
from skytwin_desktop.domain import APP_TITLE
from skytwin_desktop.errors import SkytwinError

RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
APPROVED_KEY = r"Software\Microsoft\Windows\CurrentVersion\Explorer\StartupApproved\Run"
"""Where Task Manager's Startup tab records "Disabled" for a Run value (odd first byte)."""
RUN_VALUE = APP_TITLE
log = logging.getLogger(__name__)
_HIDDEN_ENTRY = "[Desktop Entry]\nType=Application\nName=SkyTwin Desktop\nHidden=true\n"
"""Written over a system-wide autostart entry to turn it off for this person only (XDG spec)."""


class Registry(Protocol):
    """The few HKEY_CURRENT_USER operations the Run key needs; `WindowsRegistry` is the real one."""

    def get(self, key: str, name: str) -> object | None: ...

    def set(self, key: str, name: str, value: str) -> None: ...

    def delete(self, key: str, name: str) -> None:
        """Remove the value; nothing happens when it is not there."""


class WindowsRegistry:
    """HKEY_CURRENT_USER through winreg (Windows only)."""

    def get(self, key: str, name: str) -> object | None:
        if sys.platform != "win32":  # also tells type checkers on other systems to skip what follows
            raise OSError("the registry exists only on Windows")
        import winreg

        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, key) as handle:
                return winreg.QueryValueEx(handle, name)[0]
        except FileNotFoundError:
            return None

    def set(self, key: str, name: str, value: str) -> None:
        if sys.platform != "win32":
            raise OSError("the registry exists only on Windows")
        import winreg

        with winreg.CreateKeyEx(winreg.HKEY_CURRENT_USER, key, 0, winreg.KEY_SET_VALUE) as handle:
            winreg.SetValueEx(handle, name, 0, winreg.REG_SZ, value)

    def delete(self, key: str, name: str) -> None:
        if sys.platform != "win32":
            raise OSError("the registry exists only on Windows")
        import winreg

        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, key, 0, winreg.KEY_SET_VALUE) as handle:
                winreg.DeleteValue(handle, name)
        except FileNotFoundError:
            pass


def autostart_enabled(*, platform: str | None = None, env: Mapping[str, str] | None = None,
                      registry: Registry | None = None) -> bool:
    """Whether SkyTwin Desktop starts at the next login, as the platform sees it right now."""
    platform = platform or sys.platform
    env = os.environ if env is None else env
    if platform == "win32":
        return _run_key_enabled(registry or WindowsRegistry())
    if platform == "darwin":
        return _agent_enabled(_agent_path(env), env)
    if not is_xdg(platform):
        return False
    return _xdg_enabled(env)


def set_autostart(enabled: bool, *, platform: str | None = None, env: Mapping[str, str] | None = None,
                  command: Sequence[str] | None = None, registry: Registry | None = None) -> Path | str:
    """Turn start at login on (with this installation's command) or off; the file or registry
    value written or removed. Repeating either is harmless."""
    platform = platform or sys.platform
    env = os.environ if env is None else env
    if not is_xdg(platform) and platform not in ("darwin", "win32"):
        raise SkytwinError(f"Starting at login is not supported on {platform}.")
    program = (list(command) if command else launch_command(env=env, platform=platform)) if enabled else []
    if platform == "win32":
        return _set_run_key(program, registry or WindowsRegistry())
    if platform == "darwin":
        return _set_agent(program, _agent_path(env))
    return _set_xdg(program, env)


# Linux and the BSDs: an XDG autostart entry, which overrides one of the same name in XDG_CONFIG_DIRS.

def _xdg_user_entry(env: Mapping[str, str]) -> Path:
    return xdg_dir(env, "XDG_CONFIG_HOME", ".config") / "autostart" / DESKTOP_FILE


def _xdg_effective_entry(env: Mapping[str, str]) -> dict[str, str] | None:
    """The entry the session will read: the person's own, else the first system-wide one."""
    system = [folder / "autostart" for folder in xdg_dirs(env, "XDG_CONFIG_DIRS", "/etc/xdg")]
    for folder in [_xdg_user_entry(env).parent, *system]:
        keys = read_desktop_entry(folder / DESKTOP_FILE)
        if keys is not None:
            return keys
    return None


def _xdg_enabled(env: Mapping[str, str]) -> bool:
    keys = _xdg_effective_entry(env)
    if keys is None or keys.get("Hidden") == "true" or keys.get("X-GNOME-Autostart-enabled") == "false":
        return False
    try_exec = keys.get("TryExec")  # a program that is gone is not started (the venv was deleted)
    return not try_exec or program_exists(unescape_value(try_exec), env)


def _set_xdg(command: list[str], env: Mapping[str, str]) -> Path:
    """Write the entry for `command`, or with no command remove it (hiding a system-wide one)."""
    path = _xdg_user_entry(env)
    if command:
        return write_file(path, desktop_entry_text(command, autostart=True), "the autostart entry")
    remove_file(path, "the autostart entry")
    if _xdg_enabled(env):  # a system-wide entry remains: hide it for this person only
        write_file(path, _HIDDEN_ENTRY, "the autostart entry")
    return path


# macOS: a per-user launchd agent, run once at login.

def _agent_path(env: Mapping[str, str]) -> Path:
    return home_dir(env) / "Library" / "LaunchAgents" / f"{APP_ID}.plist"


def _agent_enabled(path: Path, env: Mapping[str, str]) -> bool:
    import plistlib  # macOS only: not loaded on other systems
    from xml.parsers.expat import ExpatError

    try:
        with path.open("rb") as file:
            agent = plistlib.load(file)
    except (OSError, ValueError, ExpatError):  # missing, or not a property list any more
        return False
    if not isinstance(agent, dict) or agent.get("Disabled") is True or agent.get("RunAtLoad") is not True:
        return False
    arguments = agent.get("ProgramArguments")
    return isinstance(arguments, list) and bool(arguments) and program_exists(str(arguments[0]), env)


def _set_agent(command: list[str], path: Path) -> Path:
    import plistlib

    if not command:
        remove_file(path, "the login item")
        return path
    agent = {
        "Label": APP_ID,
        "ProgramArguments": command,
        "RunAtLoad": True,
        "ProcessType": "Interactive",
        "LimitLoadToSessionType": "Aqua",  # only in a graphical login, where a tray exists
    }
    return write_file(path, plistlib.dumps(agent), "the login item")


# Windows: a value under HKCU\...\Run, which Task Manager can mark disabled under StartupApproved.

def _run_key_enabled(registry: Registry) -> bool:
    try:
        command = registry.get(RUN_KEY, RUN_VALUE)
        approval = registry.get(APPROVED_KEY, RUN_VALUE)
    except OSError as exc:  # unreadable means Windows cannot read it at login either
        log.warning("Cannot read the registry's Run key: %s", exc)
        return False
    if not isinstance(command, str) or not command.strip():
        return False
    return not (isinstance(approval, bytes) and approval and approval[0] & 1)


def _set_run_key(command: list[str], registry: Registry) -> str:
    where = f"HKEY_CURRENT_USER\\{RUN_KEY}\\{RUN_VALUE}"
    try:
        if command:
            program, *arguments = command
            registry.set(RUN_KEY, RUN_VALUE, f'"{program}" {subprocess.list2cmdline(arguments)}'.rstrip())
        else:
            registry.delete(RUN_KEY, RUN_VALUE)
        registry.delete(APPROVED_KEY, RUN_VALUE)  # a "Disabled" from Task Manager must not outlive the choice
    except OSError as exc:
        raise SkytwinError(f"Cannot change the registry value {where} ({exc.strerror or exc}).") from None
    return where
