"""Makes the generated files under packaging/ and resources/icons/hicolor/ from their one source.

`packaging/skytwin-desktop.desktop` is the template in skytwin_desktop.desktop_entry with a bare
`skytwin-desktop` command, so a distribution's launcher and the one `install-desktop-entry` writes
cannot drift apart. The app icon (resources/icons/skytwin.svg) is rendered into the PNG sizes
desktops ask for, and those PNGs are packed into a Windows .ico and a macOS .icns for PyInstaller.

Desktops pick the hicolor PNG nearest the size they draw (a 16 px menu, a 256 px launcher) rather
than scaling the SVG themselves. The PNGs live in resources/icons/hicolor/ so the wheel and the
frozen app carry them; the .ico and .icns are made at build time only (the spec calls `write_ico`
and `write_icns`). Run `python packaging/generate.py` after changing the SVG or the template.
"""

from __future__ import annotations

import os
import struct
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

from skytwin_desktop.desktop_entry import ICON_NAME, ICON_SIZES, desktop_entry_text

REPO_ROOT = Path(__file__).resolve().parent.parent
DESKTOP_FILE = REPO_ROOT / "packaging" / "skytwin-desktop.desktop"
SOURCE_SVG = REPO_ROOT / "resources" / "icons" / "skytwin.svg"
HICOLOR = REPO_ROOT / "resources" / "icons" / "hicolor"
_ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
_ICNS_TYPES = {16: b"icp4", 32: b"icp5", 64: b"icp6", 128: b"ic07", 256: b"ic08"}
"""PNG-carrying icns entries by pixel size (macOS 10.7+ reads PNG data in all of these)."""


def packaged_desktop_entry() -> str:
    """The launcher entry a package installs: the app's template, run by name from PATH."""
    return desktop_entry_text(["skytwin-desktop"])


def png_path(size: int, root: Path = HICOLOR) -> Path:
    return root / f"{size}x{size}" / "apps" / f"{ICON_NAME}.png"


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's header, so the packers and tests need no image library."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise ValueError("not a PNG file")
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def render_pngs(svg: Path = SOURCE_SVG, root: Path = HICOLOR, sizes: Iterable[int] = ICON_SIZES) -> list[Path]:
    """Draw the SVG at each size with Qt's own SVG renderer (the one the tray uses)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication([])
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise ValueError(f"{svg} is not an SVG Qt can draw")
    written = []
    for size in sizes:
        image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        target = png_path(size, root)
        target.parent.mkdir(parents=True, exist_ok=True)
        if not image.save(str(target), "PNG"):
            raise OSError(f"could not write {target}")
        written.append(target)
    return written


def read_pngs(root: Path = HICOLOR, sizes: Iterable[int] = ICON_SIZES) -> dict[int, bytes]:
    return {size: png_path(size, root).read_bytes() for size in sizes}


def write_ico(pngs: Mapping[int, bytes], target: Path) -> Path:
    """A Windows icon holding PNG images (readable by Windows Vista and later)."""
    chosen = [(size, pngs[size]) for size in _ICO_SIZES if size in pngs]
    offset = 6 + 16 * len(chosen)
    header = struct.pack("<HHH", 0, 1, len(chosen))
    entries, blobs = b"", b""
    for size, data in chosen:
        side = 0 if size >= 256 else size  # 0 means 256 in an ICO directory entry
        entries += struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(data), offset + len(blobs))
        blobs += data
    target.write_bytes(header + entries + blobs)
    return target


def write_icns(pngs: Mapping[int, bytes], target: Path) -> Path:
    """A macOS icon family holding PNG images."""
    body = b"".join(kind + struct.pack(">I", 8 + len(pngs[size])) + pngs[size]
                    for size, kind in _ICNS_TYPES.items() if size in pngs)
    target.write_bytes(b"icns" + struct.pack(">I", 8 + len(body)) + body)
    return target


def main() -> int:
    DESKTOP_FILE.write_text(packaged_desktop_entry(), encoding="utf-8")
    print(DESKTOP_FILE.relative_to(REPO_ROOT))
    for path in render_pngs():
        print(path.relative_to(REPO_ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
