"""The per-person data folder: created owner-only, and refused clearly when it cannot be written."""

from __future__ import annotations

import os
from pathlib import Path

from skytwin_desktop.errors import DataDirError

DATA_DIR_HINT = "Set SKYTWIN_DATA_DIR to a folder you can write."


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
