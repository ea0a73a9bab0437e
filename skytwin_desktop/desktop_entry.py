"""The launcher entry and icon on Linux and BSD desktops, written for this very installation.

A pip or pipx install puts no `.desktop` file or icon where menus look, so the app can add its own
to the person's data folder (`install-desktop-entry`). The entry's text lives here once: the
autostart entry and `packaging/skytwin-desktop.desktop` are made from the same template, and the
command in `Exec` is the absolute one that starts this installation (`launch_command`), so a menu
or a login never starts another copy found first on a PATH that desktops do not share.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from skytwin_desktop.domain import COMMAND_NAME
from skytwin_desktop.errors import SkytwinError
from skytwin_desktop.paths import resource

APP_ID = "org.skytwin.desktop"
"""Reverse-DNS id: the AppStream component, the macOS bundle identifier and its launchd label."""
DESKTOP_FILE = f"{COMMAND_NAME}.desktop"
"""Kept as `skytwin-desktop.desktop`: Qt's desktop file name and the notifications' desktop-entry."""
ICON_NAME = COMMAND_NAME
ICON_SIZES = (16, 22, 24, 32, 48, 64, 128, 256)
_RESERVED = frozenset(" \t\n\"'\\><~|&;$*?#()`")
"""Characters that make the Desktop Entry spec require an Exec argument to be quoted."""
_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}
_UNESCAPES = {"\\": "\\", "n": "\n", "t": "\t", "r": "\r", "s": " "}
_TOOL_TIMEOUT = 60
log = logging.getLogger(__name__)


def is_xdg(platform: str | None = None) -> bool:
    """True where menus and login follow the freedesktop specs (Linux, the BSDs, other Unixes)."""
    return (platform or sys.platform) not in ("win32", "darwin", "cygwin")


def launch_command(*, env: Mapping[str, str] | None = None, platform: str | None = None,
                   executable: str | None = None, frozen: bool | None = None) -> list[str]:
    """The absolute command that starts this installation into the tray (no arguments needed)."""
    env = os.environ if env is None else env
    platform = platform or sys.platform
    executable = executable if executable is not None else sys.executable
    frozen = bool(getattr(sys, "frozen", False)) if frozen is None else frozen
    if not executable:
        raise SkytwinError("Cannot tell which program runs SkyTwin Desktop, so no launcher can point at it.")
    executable = os.path.abspath(executable)  # not resolved: a venv's python is a symlink out of the venv
    here = Path(executable).parent
    if frozen:
        if env.get("APPIMAGE"):  # sys.executable is inside a mount that is gone after the app exits
            return [os.path.abspath(env["APPIMAGE"])]
        windowed = here / f"{COMMAND_NAME}w.exe"  # the spec's console-less twin, so login shows no console
        return [str(windowed)] if platform == "win32" and windowed.is_file() else [executable]
    if platform == "win32":
        pythonw = here / "pythonw.exe"
        return [str(pythonw) if pythonw.is_file() else executable, "-m", "skytwin_desktop"]
    script = here / COMMAND_NAME
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [executable, "-m", "skytwin_desktop"]


def exec_line(command: Sequence[str]) -> str:
    """`command` as a Desktop Entry `Exec` value: each argument quoted where the spec asks, `%`
    doubled, then escaped as a string value (so a literal backslash ends up as four)."""
    words = []
    for word in command:
        word = word.replace("%", "%%")
        if not word or any(char in _RESERVED for char in word):
            word = '"' + re.sub(r'(["`$\\])', r"\\\1", word) + '"'
        words.append(word)
    return _string_value(" ".join(words))


def desktop_entry_text(command: Sequence[str], *, autostart: bool = False) -> str:
    """The one text of SkyTwin's `.desktop` files; only the command and the autostart keys vary."""
    program = command[0]
    try:
        "".join(command).encode("utf-8")
    except UnicodeEncodeError:
        raise SkytwinError(f"The command {' '.join(command)!r} is not valid UTF-8, which desktop entries "
                           "require.") from None
    lines = [
        "[Desktop Entry]",
        "Type=Application",
        "Name=SkyTwin Desktop",
        "GenericName=Delegated-action assistant",
        "Comment=Lets your twin handle small Gmail and Calendar chores, safely",
        f"TryExec={_string_value(program)}",
        f"Exec={exec_line(command)}",
        f"Icon={ICON_NAME}",
        "Terminal=false",
        "Categories=Office;Email;Calendar;",
        "Keywords=Gmail;Calendar;assistant;approvals;tray;",
        "StartupNotify=false",
    ]
    if autostart:  # the tray needs a panel: give it a moment, and LXQt waits for the tray itself
        lines += ["X-GNOME-Autostart-enabled=true", "X-GNOME-Autostart-Delay=10", "X-LXQt-Need-Tray=true"]
    return "\n".join(lines) + "\n"


def read_desktop_entry(path: Path) -> dict[str, str] | None:
    """The unlocalised keys of a file's [Desktop Entry] group, or None when it cannot be read."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    keys: dict[str, str] = {}
    group, seen = None, False
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            group = line[1:-1]
            seen = seen or group == "Desktop Entry"
        elif group == "Desktop Entry" and "=" in line:
            key, value = (part.strip() for part in line.split("=", 1))
            keys.setdefault(key, value)  # the first one counts; a duplicate key is invalid anyway
    return keys if seen else None


def xdg_dir(env: Mapping[str, str], variable: str, default: str) -> Path:
    """An XDG base folder; a relative value is invalid per the spec and ignored."""
    value = env.get(variable, "")
    return Path(value) if os.path.isabs(value) else home_dir(env) / default


def xdg_dirs(env: Mapping[str, str], variable: str, default: str) -> list[Path]:
    return [Path(part) for part in (env.get(variable) or default).split(":") if os.path.isabs(part)]


def home_dir(env: Mapping[str, str]) -> Path:
    return Path(env.get("HOME") or Path.home())


def write_file(path: Path, data: str | bytes, what: str) -> Path:
    """Replace `path` in one step (a reader never sees half a file); unchanged files are left alone."""
    content = data.encode("utf-8") if isinstance(data, str) else data
    try:
        if path.is_file() and path.read_bytes() == content:
            return path
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(content)
            os.chmod(temporary, 0o644)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise SkytwinError(f"Cannot write {what} {path} ({exc.strerror or exc}).") from None
    return path


def remove_file(path: Path, what: str) -> bool:
    """Delete `path` if it is there; True when something was removed."""
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise SkytwinError(f"Cannot remove {what} {path} ({exc.strerror or exc}).") from None
    return True


def install_desktop_entry(*, env: Mapping[str, str] | None = None, command: Sequence[str] | None = None,
                          platform: str | None = None) -> list[Path]:
    """Write the launcher entry and the icons into the person's data folder; the paths written.

    Safe to repeat: it rewrites only SkyTwin's own files, with the command of this installation."""
    env = os.environ if env is None else env
    _require_xdg(platform)
    entry, icons = _our_files(env)
    text = desktop_entry_text(list(command) if command else launch_command(env=env, platform=platform))
    written = [write_file(entry, text, "the launcher entry")]
    for target, source in icons.items():
        try:
            content = source.read_bytes()
        except OSError as exc:
            raise SkytwinError(f"SkyTwin Desktop is installed without its icon {source} "
                               f"({exc.strerror or exc}).") from None
        written.append(write_file(target, content, "the icon"))
    _refresh_caches(env)
    return written


def remove_desktop_entry(*, env: Mapping[str, str] | None = None, platform: str | None = None) -> list[Path]:
    """Delete the launcher entry and icons `install_desktop_entry` wrote; the paths removed."""
    env = os.environ if env is None else env
    _require_xdg(platform)
    entry, icons = _our_files(env)
    removed = [path for path, what in [(entry, "the launcher entry"), *((icon, "the icon") for icon in icons)]
               if remove_file(path, what)]
    if removed:
        _refresh_caches(env)
    return removed


def desktop_entry_installed(*, env: Mapping[str, str] | None = None, platform: str | None = None) -> bool:
    """Whether menus show SkyTwin: its entry in the person's or a system data folder (a
    distribution package puts it in /usr/share), not hidden and with its program still there.
    Always False off Linux and the BSDs."""
    env = os.environ if env is None else env
    if not is_xdg(platform):
        return False
    folders = [xdg_dir(env, "XDG_DATA_HOME", ".local/share"),
               *xdg_dirs(env, "XDG_DATA_DIRS", "/usr/local/share:/usr/share")]
    for folder in folders:
        keys = read_desktop_entry(folder / "applications" / DESKTOP_FILE)
        if keys is not None:  # the first one found hides those after it
            try_exec = keys.get("TryExec")  # menus leave out an entry whose program is gone
            return keys.get("Hidden") != "true" and (not try_exec or program_exists(unescape_value(try_exec), env))
    return False


def program_exists(program: str, env: Mapping[str, str]) -> bool:
    """Whether a session could start `program` (absolute, or found on PATH), as TryExec asks."""
    if os.path.isabs(program):
        return os.path.isfile(program) and os.access(program, os.X_OK)
    return shutil.which(program, path=env.get("PATH", os.defpath)) is not None


def _our_files(env: Mapping[str, str]) -> tuple[Path, dict[Path, Path]]:
    """The entry's path, and each icon's path with the shipped file it is a copy of."""
    data_home = xdg_dir(env, "XDG_DATA_HOME", ".local/share")
    hicolor = data_home / "icons" / "hicolor"
    icons = {hicolor / "scalable" / "apps" / f"{ICON_NAME}.svg": resource("icons", "skytwin.svg")}
    for size in ICON_SIZES:
        folder = f"{size}x{size}"
        icons[hicolor / folder / "apps" / f"{ICON_NAME}.png"] = resource(
            "icons", "hicolor", folder, "apps", f"{ICON_NAME}.png")
    return data_home / "applications" / DESKTOP_FILE, icons


def _require_xdg(platform: str | None) -> None:
    if not is_xdg(platform):
        raise SkytwinError("A launcher entry is only for Linux and BSD desktops; on macOS and Windows "
                           "use the packaged app.")


def _refresh_caches(env: Mapping[str, str]) -> None:
    """Keep the menu and icon caches that exist true to the files. None is started: without one,
    desktops read the folders themselves, while a cache another app's installer does not refresh
    would hide its icons. A missing or failing tool is only logged."""
    data_home = xdg_dir(env, "XDG_DATA_HOME", ".local/share")
    applications, hicolor = data_home / "applications", data_home / "icons" / "hicolor"
    with contextlib.suppress(OSError):
        os.utime(hicolor)  # a theme folder newer than its cache tells GTK and running desktops to look again
    for cache, tool, *arguments in (
        (applications / "mimeinfo.cache", "update-desktop-database", "-q", str(applications)),
        (hicolor / "icon-theme.cache", "gtk-update-icon-cache", "-q", "-f", "-t", str(hicolor)),
    ):
        program = shutil.which(tool, path=env.get("PATH", os.defpath))
        if not cache.exists() or program is None:
            continue
        try:
            done = subprocess.run([program, *arguments], capture_output=True, text=True, timeout=_TOOL_TIMEOUT,
                                  check=False)
        except (OSError, subprocess.SubprocessError) as exc:
            log.warning("%s could not run: %s", tool, exc)
            continue
        if done.returncode != 0:
            log.warning("%s failed (exit code %s): %s", tool, done.returncode, done.stderr.strip()[:500])


def _string_value(text: str) -> str:
    """Escape a Desktop Entry string value (one line, backslash escapes)."""
    return "".join(_ESCAPES.get(char, char) for char in text)


def unescape_value(raw: str) -> str:
    """A string value as written in a file, read back (`\\s`, `\\n`, `\\t`, `\\r`, `\\\\`)."""
    return re.sub(r"\\(.)", lambda match: _UNESCAPES.get(match.group(1), match.group(0)), raw)
