"""Start at login, read back from what is on disk (or in the registry) every time."""

from __future__ import annotations

import os
import plistlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from skytwin_desktop.autostart import APPROVED_KEY, RUN_KEY, RUN_VALUE, autostart_enabled, set_autostart
from skytwin_desktop.desktop_entry import desktop_entry_text, launch_command, read_desktop_entry
from skytwin_desktop.errors import SkytwinError


@pytest.fixture
def autostart_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The person's autostart folder (under conftest's XDG_CONFIG_HOME); no system-wide entries."""
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(tmp_path / "etc-xdg"))
    return Path(os.environ["XDG_CONFIG_HOME"]) / "autostart"


def test_turning_on_writes_an_entry_for_this_installation(autostart_dir: Path):
    assert not autostart_enabled()

    written = set_autostart(True)

    assert written == autostart_dir / "skytwin-desktop.desktop"
    assert autostart_enabled()
    keys = read_desktop_entry(written)
    assert keys is not None
    assert keys["X-GNOME-Autostart-Delay"] == "10" and keys["X-GNOME-Autostart-enabled"] == "true"
    assert keys["Exec"] == " ".join(launch_command())  # this venv's path needs no quoting
    assert Path(launch_command()[0]).is_absolute()
    assert "Hidden" not in keys


@pytest.mark.slow
def test_the_entry_passes_desktop_file_validate(autostart_dir: Path):
    path = set_autostart(True)
    validator = shutil.which("desktop-file-validate")
    if validator is None:
        pytest.skip("desktop-file-validate is not installed (Debian: desktop-file-utils)")
    done = subprocess.run([validator, str(path)], check=False, capture_output=True, text=True)
    assert done.returncode == 0 and not done.stdout.strip(), done.stdout + done.stderr


def test_without_xdg_config_home_the_entry_goes_under_home(autostart_dir: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("XDG_CONFIG_HOME")
    assert set_autostart(True) == Path(os.environ["HOME"]) / ".config" / "autostart" / "skytwin-desktop.desktop"
    assert autostart_enabled()


@pytest.mark.parametrize("change", ["deleted", "Hidden=true", "X-GNOME-Autostart-enabled=false", "program gone"])
def test_changes_made_outside_the_app_are_seen(autostart_dir: Path, tmp_path: Path, change: str):
    program = tmp_path / "bin" / "skytwin-desktop"
    program.parent.mkdir()
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    path = set_autostart(True, command=[str(program)])
    assert autostart_enabled()

    if change == "deleted":
        path.unlink()
    elif change == "program gone":
        program.unlink()  # the venv was deleted: TryExec tells the session not to start it
    else:
        key = change.split("=", 1)[0]
        text = "".join(line for line in path.read_text().splitlines(keepends=True) if not line.startswith(key + "="))
        path.write_text(text + change + "\n")  # what GNOME Tweaks or a settings panel writes

    assert not autostart_enabled()


def test_toggling_twice_is_harmless(autostart_dir: Path):
    first = set_autostart(True)
    text = first.read_text()
    assert set_autostart(True) == first and first.read_text() == text
    assert autostart_enabled()

    assert set_autostart(False) == first and not first.exists()
    assert set_autostart(False) == first and not first.exists()
    assert not autostart_enabled()
    assert os.listdir(autostart_dir) == []  # no temporary files left behind


def test_a_system_wide_entry_is_honoured_and_overridden(autostart_dir: Path, tmp_path: Path):
    system = tmp_path / "etc-xdg" / "autostart" / "skytwin-desktop.desktop"
    system.parent.mkdir(parents=True)
    system.write_text(desktop_entry_text([sys.executable, "-m", "skytwin_desktop"], autostart=True))
    assert autostart_enabled()  # a distribution (or an administrator) turned it on for everyone

    user = set_autostart(False)

    assert not autostart_enabled()
    assert read_desktop_entry(user) == {"Type": "Application", "Name": "SkyTwin Desktop", "Hidden": "true"}
    assert system.read_text() == desktop_entry_text([sys.executable, "-m", "skytwin_desktop"], autostart=True)

    set_autostart(True)
    assert autostart_enabled() and "Hidden" not in (read_desktop_entry(user) or {})


def test_a_hidden_system_entry_does_not_count_as_on(autostart_dir: Path, tmp_path: Path):
    system = tmp_path / "etc-xdg" / "autostart" / "skytwin-desktop.desktop"
    system.parent.mkdir(parents=True)
    system.write_text("[Desktop Entry]\nType=Application\nName=SkyTwin Desktop\nExec=skytwin-desktop\nHidden=true\n")
    assert not autostart_enabled()
    set_autostart(False)
    assert not (autostart_dir / "skytwin-desktop.desktop").exists()  # nothing to override


def test_a_folder_that_cannot_be_written_is_one_sentence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    blocker = tmp_path / "a file"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(blocker))

    with pytest.raises(SkytwinError) as caught:
        set_autostart(True)

    message = str(caught.value)
    assert message.startswith("Cannot write the autostart entry ") and "\n" not in message
    assert str(blocker / "autostart" / "skytwin-desktop.desktop") in message
    assert not autostart_enabled()


def test_a_read_only_autostart_folder_is_one_sentence(autostart_dir: Path):
    if os.geteuid() == 0:
        pytest.skip("root writes into read-only folders")
    autostart_dir.mkdir(parents=True)
    autostart_dir.chmod(0o500)
    try:
        with pytest.raises(SkytwinError, match=r"^Cannot write the autostart entry .*Permission denied\)\.$"):
            set_autostart(True)
    finally:
        autostart_dir.chmod(0o700)


# macOS: a launchd agent in ~/Library/LaunchAgents, read and written as real files here.

def agent_path() -> Path:
    return Path(os.environ["HOME"]) / "Library" / "LaunchAgents" / "org.skytwin.desktop.plist"


def test_macos_login_item_is_a_launch_agent():
    assert not autostart_enabled(platform="darwin")

    written = set_autostart(True, platform="darwin")

    assert written == agent_path()
    agent = plistlib.loads(written.read_bytes())
    assert agent["Label"] == "org.skytwin.desktop"
    assert agent["ProgramArguments"] == launch_command(platform="darwin")
    assert agent["RunAtLoad"] is True and "KeepAlive" not in agent
    assert autostart_enabled(platform="darwin")


@pytest.mark.parametrize("change", ["deleted", "Disabled", "RunAtLoad off", "program gone", "garbage", "cut short"])
def test_macos_changes_made_outside_the_app_are_seen(tmp_path: Path, change: str):
    program = tmp_path / "SkyTwin Desktop.app" / "Contents" / "MacOS" / "skytwin-desktop"
    program.parent.mkdir(parents=True)
    program.write_text("")
    program.chmod(0o755)
    path = set_autostart(True, platform="darwin", command=[str(program)])
    assert autostart_enabled(platform="darwin")
    agent = plistlib.loads(path.read_bytes())

    if change == "deleted":
        path.unlink()
    elif change == "program gone":
        program.unlink()
    elif change == "garbage":
        path.write_bytes(b"not a property list")
    elif change == "cut short":
        path.write_bytes(path.read_bytes()[:120])
    else:
        agent["Disabled" if change == "Disabled" else "RunAtLoad"] = change == "Disabled"
        path.write_bytes(plistlib.dumps(agent))

    assert not autostart_enabled(platform="darwin")


def test_macos_toggling_twice_is_harmless():
    first = set_autostart(True, platform="darwin")
    content = first.read_bytes()
    assert set_autostart(True, platform="darwin") == first and first.read_bytes() == content
    assert set_autostart(False, platform="darwin") == first and not first.exists()
    assert set_autostart(False, platform="darwin") == first
    assert not autostart_enabled(platform="darwin")


def test_macos_unwritable_folder_is_one_sentence():
    agents = agent_path().parent
    agents.parent.mkdir(parents=True)
    agents.write_text("")  # a file where the folder belongs
    with pytest.raises(SkytwinError, match=r"^Cannot write the login item .*org\.skytwin\.desktop\.plist \(.*\)\.$"):
        set_autostart(True, platform="darwin")


# Windows: the Run key, through an in-memory registry with winreg's behaviour.

class MemoryRegistry:
    def __init__(self) -> None:
        self.values: dict[tuple[str, str], object] = {}
        self.refuse = False

    def get(self, key: str, name: str) -> object | None:
        return self.values.get((key, name))

    def set(self, key: str, name: str, value: str) -> None:
        if self.refuse:
            raise PermissionError(13, "Access is denied")
        self.values[(key, name)] = value

    def delete(self, key: str, name: str) -> None:
        if self.refuse:
            raise PermissionError(13, "Access is denied")
        self.values.pop((key, name), None)


WINDOWS_COMMAND = [r"C:\Users\Ada Lovelace\skytwin\Scripts\pythonw.exe", "-m", "skytwin_desktop"]


def test_windows_run_key_holds_a_quoted_command():
    registry = MemoryRegistry()
    assert not autostart_enabled(platform="win32", registry=registry)

    where = set_autostart(True, platform="win32", registry=registry, command=WINDOWS_COMMAND)

    assert where == r"HKEY_CURRENT_USER\Software\Microsoft\Windows\CurrentVersion\Run\SkyTwin Desktop"
    assert registry.values[(RUN_KEY, RUN_VALUE)] == (
        r'"C:\Users\Ada Lovelace\skytwin\Scripts\pythonw.exe" -m skytwin_desktop')
    assert autostart_enabled(platform="win32", registry=registry)


def test_windows_task_manager_disabling_is_seen_and_turning_on_again_wins():
    registry = MemoryRegistry()
    set_autostart(True, platform="win32", registry=registry, command=WINDOWS_COMMAND)
    registry.values[(APPROVED_KEY, RUN_VALUE)] = bytes([3]) + bytes(11)  # Task Manager: Disabled
    assert not autostart_enabled(platform="win32", registry=registry)
    registry.values[(APPROVED_KEY, RUN_VALUE)] = bytes([2]) + bytes(11)  # Task Manager: Enabled
    assert autostart_enabled(platform="win32", registry=registry)
    registry.values[(APPROVED_KEY, RUN_VALUE)] = bytes([3]) + bytes(11)

    set_autostart(True, platform="win32", registry=registry, command=WINDOWS_COMMAND)

    assert autostart_enabled(platform="win32", registry=registry)
    assert (APPROVED_KEY, RUN_VALUE) not in registry.values


def test_windows_turning_off_twice_is_harmless():
    registry = MemoryRegistry()
    set_autostart(True, platform="win32", registry=registry, command=WINDOWS_COMMAND)
    registry.values[(RUN_KEY, "Another App")] = r'"C:\other.exe"'
    set_autostart(False, platform="win32", registry=registry)
    set_autostart(False, platform="win32", registry=registry)
    assert not autostart_enabled(platform="win32", registry=registry)
    assert registry.values == {(RUN_KEY, "Another App"): r'"C:\other.exe"'}


def test_windows_registry_unreadable_means_off():
    class Unreadable(MemoryRegistry):
        def get(self, key: str, name: str) -> object | None:
            raise PermissionError(13, "Access is denied")

    assert not autostart_enabled(platform="win32", registry=Unreadable())


def test_windows_refused_registry_is_one_sentence():
    registry = MemoryRegistry()
    registry.refuse = True
    with pytest.raises(SkytwinError, match=r"^Cannot change the registry value HKEY_CURRENT_USER\\.*\\Run\\"
                                           r"SkyTwin Desktop \(Access is denied\)\.$"):
        set_autostart(True, platform="win32", registry=registry, command=WINDOWS_COMMAND)
