"""Where the folders that ship with the app (migrations, resources) are found.

A built wheel carries them inside the package; a source checkout keeps them at the top level.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def bundled_dir(name: str) -> Path:
    """The installed copy of a shipped folder, else the source tree's."""
    for candidate in (_PACKAGE_DIR / name, _PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"SkyTwin Desktop is installed without its {name!r} folder")


def resource(*parts: str) -> Path:
    return bundled_dir("resources").joinpath(*parts)
