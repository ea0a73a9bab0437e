"""The launcher entry and icons `install-desktop-entry` writes, in a throwaway XDG data folder."""

from __future__ import annotations

import logging
import os
import shlex
import shutil
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

from skytwin_desktop import __version__
from skytwin_desktop.desktop_entry import (
    ICON_SIZES,
    desktop_entry_installed,
    desktop_entry_text,
    exec_line,
    install_desktop_entry,
    launch_command,
    read_desktop_entry,
    remove_desktop_entry,
    unescape_value,
)
from skytwin_desktop.errors import SkytwinError
from skytwin_desktop.paths import resource


@pytest.fixture
def data_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """XDG_DATA_HOME from conftest, and system data folders that are empty (not this machine's)."""
    system = tmp_path / "system-share"
    system.mkdir()
    monkeypatch.setenv("XDG_DATA_DIRS", str(system))
    return Path(os.environ["XDG_DATA_HOME"])


def exec_argv(entry: Path) -> list[str]:
    """The command a desktop runs for `entry` (enough of the spec for paths without field codes)."""
    keys = read_desktop_entry(entry)
    assert keys is not None
    return [word.replace("%%", "%") for word in shlex.split(unescape_value(keys["Exec"]))]


def png_dimensions(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


def test_install_writes_the_entry_and_every_icon_size(data_home: Path):
    written = install_desktop_entry()

    entry = data_home / "applications" / "skytwin-desktop.desktop"
    hicolor = data_home / "icons" / "hicolor"
    expected = {entry, hicolor / "scalable" / "apps" / "skytwin-desktop.svg",
                *(hicolor / f"{n}x{n}" / "apps" / "skytwin-desktop.png" for n in (16, 22, 24, 32, 48, 64, 128, 256))}
    assert set(written) == expected
    assert all(path.is_file() for path in expected)
    for size in ICON_SIZES:
        assert png_dimensions(hicolor / f"{size}x{size}" / "apps" / "skytwin-desktop.png") == (size, size)
    assert "<svg" in (hicolor / "scalable" / "apps" / "skytwin-desktop.svg").read_text()
    keys = read_desktop_entry(entry)
    assert keys is not None and keys["Icon"] == "skytwin-desktop" and keys["Type"] == "Application"


@pytest.mark.slow
def test_the_entry_runs_this_installation(data_home: Path):
    install_desktop_entry()
    argv = exec_argv(data_home / "applications" / "skytwin-desktop.desktop")

    assert Path(argv[0]).is_absolute() and os.access(argv[0], os.X_OK)
    script = Path(sys.executable).parent / "skytwin-desktop"
    assert argv == ([str(script)] if script.is_file() else [os.path.abspath(sys.executable), "-m", "skytwin_desktop"])
    done = subprocess.run([*argv, "--version"], check=False, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"skytwin-desktop {__version__}"


@pytest.mark.slow
def test_the_installed_entry_passes_desktop_file_validate(data_home: Path):
    install_desktop_entry()
    validator = shutil.which("desktop-file-validate")
    if validator is None:
        pytest.skip("desktop-file-validate is not installed (Debian: desktop-file-utils)")
    done = subprocess.run([validator, str(data_home / "applications" / "skytwin-desktop.desktop")],
                          check=False, capture_output=True, text=True)
    assert done.returncode == 0 and not done.stdout.strip(), done.stdout + done.stderr


@pytest.mark.slow
def test_exec_quoting_survives_a_real_launcher(tmp_path: Path):
    """GLib's launcher (GNOME and most others) reads back exactly the arguments that were meant."""
    gio = shutil.which("gio")
    if gio is None:
        pytest.skip("gio is not installed (Debian: libglib2.0-bin)")
    folder = tmp_path / "odd dir $HOME `x` \\ 'q' \"d\" (1);#"  # no %: GLib looks for "%%" on disk
    folder.mkdir()
    record = tmp_path / "argv.txt"
    program = folder / "run me"
    program.write_text(f"#!/bin/sh\nprintf '%s\\n' \"$0\" \"$@\" > '{record}'\n")
    program.chmod(0o755)
    arguments = ["plain", "two words", "50%", "%f", "semi;colon", "back\\slash", "quote\"d", ""]
    entry = tmp_path / "odd.desktop"
    entry.write_text(desktop_entry_text([str(program), *arguments]))

    subprocess.run([gio, "launch", str(entry)], check=True, timeout=30, capture_output=True)
    deadline = time.monotonic() + 10
    while not record.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert record.read_text().split("\n")[:-1] == [str(program), *arguments]


def test_exec_line_quotes_only_where_the_spec_asks():
    assert exec_line(["/opt/skytwin/bin/skytwin-desktop"]) == "/opt/skytwin/bin/skytwin-desktop"
    assert exec_line(["/a b/python", "-m", "x"]) == '"/a b/python" -m x'
    assert exec_line(["/p/100%"]) == "/p/100%%"
    assert exec_line(["/c:\\x"]) == '"/c:\\\\\\\\x"'  # spec: a quoted literal backslash is four in the file
    # spec: inside quotes ", `, $ and \ take a backslash, which the string escape then doubles
    assert exec_line(['/a $b`c"d']) == '"/a \\\\$b\\\\`c\\\\"d"'


def test_remove_takes_exactly_our_files_and_nothing_else(data_home: Path):
    others = [data_home / "applications" / "other-app.desktop",
              data_home / "icons" / "hicolor" / "48x48" / "apps" / "other-app.png",
              data_home / "icons" / "hicolor" / "scalable" / "apps" / "skytwin-desktop-extra.svg"]
    for path in others:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("someone else's")
    written = install_desktop_entry()

    removed = remove_desktop_entry()

    assert sorted(removed) == sorted(written)
    assert not any(path.exists() for path in written)
    assert all(path.read_text() == "someone else's" for path in others)
    assert remove_desktop_entry() == []


def test_installing_again_changes_nothing_and_a_new_command_is_picked_up(data_home: Path, tmp_path: Path):
    first = install_desktop_entry()
    before = {path: (path.read_bytes(), path.stat().st_mtime_ns) for path in first}
    time.sleep(0.01)

    assert install_desktop_entry() == first
    assert {path: (path.read_bytes(), path.stat().st_mtime_ns) for path in first} == before

    moved = tmp_path / "new place" / "skytwin-desktop"
    install_desktop_entry(command=[str(moved)])
    assert exec_argv(data_home / "applications" / "skytwin-desktop.desktop") == [str(moved)]


@pytest.mark.slow
def test_caches_that_exist_are_refreshed_and_none_is_started(data_home: Path):
    update_menus, update_icons = shutil.which("update-desktop-database"), shutil.which("gtk-update-icon-cache")
    if not (update_menus and update_icons):
        pytest.skip("update-desktop-database or gtk-update-icon-cache is not installed")
    install_desktop_entry()
    assert not (data_home / "applications" / "mimeinfo.cache").exists()
    assert not (data_home / "icons" / "hicolor" / "icon-theme.cache").exists()
    remove_desktop_entry()

    hicolor = data_home / "icons" / "hicolor"  # another app installed an icon and started a cache
    shutil.copyfile(resource("icons", "hicolor", "48x48", "apps", "skytwin-desktop.png"),
                    hicolor / "48x48" / "apps" / "other-app.png")
    subprocess.run([update_menus, str(data_home / "applications")], check=True)
    subprocess.run([update_icons, "-q", "-f", "-t", str(hicolor)], check=True)
    assert b"skytwin-desktop" not in (hicolor / "icon-theme.cache").read_bytes()

    install_desktop_entry()

    assert b"skytwin-desktop" in (hicolor / "icon-theme.cache").read_bytes()  # else GTK would miss the icon
    remove_desktop_entry()
    cache = (hicolor / "icon-theme.cache").read_bytes()
    assert b"skytwin-desktop" not in cache and b"other-app" in cache


@pytest.mark.slow
def test_failing_cache_tools_are_logged_not_fatal(data_home: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture):
    tools = tmp_path / "bin"
    tools.mkdir()
    for name in ("update-desktop-database", "gtk-update-icon-cache"):
        (tools / name).write_text("#!/bin/sh\necho broken >&2\nexit 3\n")
        (tools / name).chmod(0o755)
    env = {**os.environ, "PATH": str(tools)}
    for cache in (data_home / "applications" / "mimeinfo.cache", data_home / "icons" / "hicolor" / "icon-theme.cache"):
        cache.parent.mkdir(parents=True)
        cache.write_bytes(b"")  # caches exist, so the tools are asked to refresh them

    with caplog.at_level(logging.WARNING, logger="skytwin_desktop.desktop_entry"):
        written = install_desktop_entry(env=env)

    assert all(path.is_file() for path in written)
    failures = [record.getMessage() for record in caplog.records]
    assert any("update-desktop-database failed (exit code 3): broken" in text for text in failures)
    assert any("gtk-update-icon-cache failed (exit code 3): broken" in text for text in failures)


def test_installed_reflects_the_files_on_disk(data_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    system = Path(os.environ["XDG_DATA_DIRS"]) / "applications" / "skytwin-desktop.desktop"
    assert not desktop_entry_installed()
    install_desktop_entry()
    assert desktop_entry_installed()
    (data_home / "applications" / "skytwin-desktop.desktop").unlink()  # the person tidied up by hand
    assert not desktop_entry_installed()
    install_desktop_entry(command=[str(data_home / "deleted-venv" / "bin" / "skytwin-desktop")])
    assert not desktop_entry_installed()  # menus hide an entry whose TryExec program is gone
    remove_desktop_entry()

    system.parent.mkdir(parents=True)
    system.write_text(desktop_entry_text(["skytwin-desktop"]))  # a distribution package's entry
    assert not desktop_entry_installed()  # ... whose program is not on PATH
    usr_bin = tmp_path / "usr-bin"
    usr_bin.mkdir()
    (usr_bin / "skytwin-desktop").write_text("#!/bin/sh\n")
    (usr_bin / "skytwin-desktop").chmod(0o755)
    monkeypatch.setenv("PATH", f"{usr_bin}{os.pathsep}{os.environ.get('PATH', '')}")
    assert desktop_entry_installed()
    hidden = data_home / "applications" / "skytwin-desktop.desktop"
    hidden.write_text("[Desktop Entry]\nType=Application\nName=SkyTwin Desktop\nHidden=true\n")
    assert not desktop_entry_installed()


def test_default_data_folder_is_under_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("XDG_DATA_DIRS", str(tmp_path / "none"))
    written = install_desktop_entry()
    assert Path(os.environ["HOME"]) / ".local" / "share" / "applications" / "skytwin-desktop.desktop" in written


def test_a_folder_that_cannot_be_written_is_one_sentence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    blocker = tmp_path / "a file"
    blocker.write_text("")
    monkeypatch.setenv("XDG_DATA_HOME", str(blocker / "share"))

    with pytest.raises(SkytwinError) as caught:
        install_desktop_entry()

    message = str(caught.value)
    assert "\n" not in message and str(blocker / "share" / "applications" / "skytwin-desktop.desktop") in message


def test_a_read_only_folder_is_one_sentence(data_home: Path):
    if os.geteuid() == 0:
        pytest.skip("root writes into read-only folders")
    applications = data_home / "applications"
    applications.mkdir(parents=True)
    applications.chmod(0o500)
    try:
        with pytest.raises(SkytwinError, match=r"^Cannot write the launcher entry .*Permission denied\)\.$"):
            install_desktop_entry()
    finally:
        applications.chmod(0o700)


def test_only_freedesktop_systems_get_a_launcher_entry(data_home: Path):
    for platform in ("darwin", "win32"):
        with pytest.raises(SkytwinError, match="only for Linux and BSD"):
            install_desktop_entry(platform=platform)
        assert not desktop_entry_installed(platform=platform)
    assert not (data_home / "applications").exists()


def test_launch_command_for_each_kind_of_installation(tmp_path: Path):
    bin_dir = tmp_path / "venv" / "bin"
    bin_dir.mkdir(parents=True)
    python = bin_dir / "python"
    python.write_text("")
    assert launch_command(executable=str(python), frozen=False, platform="linux") == [
        str(python), "-m", "skytwin_desktop"]

    script = bin_dir / "skytwin-desktop"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    assert launch_command(executable=str(python), frozen=False, platform="linux") == [str(script)]

    frozen = tmp_path / "dist" / "skytwin-desktop"
    assert launch_command(executable=str(frozen), frozen=True, platform="linux", env={}) == [str(frozen)]
    appimage = tmp_path / "SkyTwin.AppImage"
    assert launch_command(executable=str(frozen), frozen=True, platform="linux",
                          env={"APPIMAGE": str(appimage)}) == [str(appimage)]

    scripts = tmp_path / "Scripts"
    scripts.mkdir()
    (scripts / "pythonw.exe").write_text("")
    assert launch_command(executable=str(scripts / "python.exe"), frozen=False, platform="win32") == [
        str(scripts / "pythonw.exe"), "-m", "skytwin_desktop"]
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "skytwin-desktopw.exe").write_text("")
    assert launch_command(executable=str(tmp_path / "dist" / "skytwin-desktop.exe"), frozen=True,
                          platform="win32", env={}) == [str(tmp_path / "dist" / "skytwin-desktopw.exe")]

    with pytest.raises(SkytwinError):
        launch_command(executable="", frozen=False)


def test_a_command_that_is_not_utf8_is_refused_in_one_sentence():
    with pytest.raises(SkytwinError, match="not valid UTF-8"):
        desktop_entry_text(["/opt/caf\udce9/skytwin-desktop"])
