"""Where things are: the folders that ship with the app (migrations, resources), and the person's
data folder (where it is by default; created owner-only, refused clearly when it cannot be written).
The files inside the data folder are named by `Config` (`database_path`, `log_dir`, `backup_dir`).

A built wheel carries the shipped folders inside the package; a source checkout keeps them at the
top level.
"""

from __future__ import annotations

import os
from pathlib import Path

from skytwin_desktop.domain import COMMAND_NAME
from skytwin_desktop.errors import DataDirError

_PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR_HINT = "Set SKYTWIN_DATA_DIR to a folder you can write."


def bundled_dir(name: str) -> Path:
    """The installed copy of a shipped folder, else the source tree's."""
    for candidate in (_PACKAGE_DIR / name, _PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"SkyTwin Desktop is installed without its {name!r} folder")


def resource(*parts: str) -> Path:
    return bundled_dir("resources").joinpath(*parts)


def default_data_dir() -> Path:
    """The platform's place for an app's data (on Linux ~/.local/share/skytwin-desktop)."""
    import platformdirs

    return Path(platformdirs.user_data_dir(COMMAND_NAME, appauthor=False))


def ensure_data_dir(path: Path) -> Path:
    """Create the folder (0700) if missing and prove we can write in it."""
    try:
        if path.exists() and not path.is_dir():
            raise DataDirError(f"Data folder {path} exists but is not a folder. {DATA_DIR_HINT}")
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise DataDirError(f"Cannot create the data folder {path}: {exc.strerror}. {DATA_DIR_HINT}") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise DataDirError(f"Data folder {path} is not writable. {DATA_DIR_HINT}")
    return path
