"""Can the tray open windows here? Asked before Qt is loaded, because Qt answers "no" by aborting
the process (a core dump, exit 134) rather than with an error we could catch: a DISPLAY that
points at no X server, or a missing library of Qt's xcb platform plugin.

Only Linux's X11 path is checked; elsewhere (and for any platform chosen with QT_QPA_PLATFORM
other than xcb) Qt is trusted to manage."""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Mapping, Sequence

XCB_LIBRARIES: tuple[tuple[str, str], ...] = (
    ("libxcb.so.1", "libxcb1"),
    ("libX11-xcb.so.1", "libx11-xcb1"),
    ("libxcb-cursor.so.0", "libxcb-cursor0"),
    ("libxcb-icccm.so.4", "libxcb-icccm4"),
    ("libxcb-image.so.0", "libxcb-image0"),
    ("libxcb-keysyms.so.1", "libxcb-keysyms1"),
    ("libxcb-randr.so.0", "libxcb-randr0"),
    ("libxcb-render-util.so.0", "libxcb-render-util0"),
    ("libxcb-shape.so.0", "libxcb-shape0"),
    ("libxkbcommon-x11.so.0", "libxkbcommon-x11-0"),
)
"""What Qt 6's xcb platform plugin loads, and the Debian/Ubuntu package that ships each."""


def missing_library(libraries: Sequence[tuple[str, str]] = XCB_LIBRARIES) -> tuple[str, str] | None:
    """The first (library, package) that cannot be loaded, or None."""
    for library, package in libraries:
        try:
            ctypes.CDLL(library)
        except OSError:
            return library, package
    return None


def display_problem(environ: Mapping[str, str]) -> str | None:
    """Why the tray cannot open windows on this X display, in one sentence; None when it can
    (or when this is not the X11 path)."""
    if not sys.platform.startswith("linux"):
        return None
    platform = environ.get("QT_QPA_PLATFORM", "")
    if not platform and not environ.get("DISPLAY") and not environ.get("WAYLAND_DISPLAY"):
        return "No graphical session found (DISPLAY and WAYLAND_DISPLAY are unset)."
    if platform not in ("", "xcb") or (not platform and environ.get("WAYLAND_DISPLAY")):
        return None
    display = environ.get("DISPLAY", "")
    missing = missing_library()
    if missing is not None:
        library, package = missing
        return (f"Qt cannot open windows here: the library {library} is missing (install the package "
                f"{package}).")
    xcb = ctypes.CDLL("libxcb.so.1")
    xcb.xcb_connect.restype = ctypes.c_void_p
    xcb.xcb_connect.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
    xcb.xcb_connection_has_error.argtypes = [ctypes.c_void_p]
    xcb.xcb_disconnect.argtypes = [ctypes.c_void_p]
    connection = xcb.xcb_connect(display.encode() or None, None)
    try:
        failed = xcb.xcb_connection_has_error(connection)
    finally:
        xcb.xcb_disconnect(connection)
    if failed:
        return (f"Cannot open the display {display!r}: no X server answers there (is DISPLAY left over from "
                "another session?).")
    return None
