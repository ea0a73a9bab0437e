"""The tray asks whether it can open windows before Qt does, because Qt answers "no" by aborting
the process (a core dump, exit 134): a left-over DISPLAY gets one line and exit 1 instead."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from skytwin_desktop.display import display_problem, missing_library

pytestmark = pytest.mark.slow  # starts processes


def free_display() -> int:
    return next(n for n in range(77, 200) if not Path(f"/tmp/.X11-unix/X{n}").exists()
                and not Path(f"/tmp/.X{n}-lock").exists())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the X11 path is Linux's")
def test_a_left_over_display_is_one_line_not_a_qt_abort():
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY")}
    env["DISPLAY"] = f":{free_display()}"
    done = subprocess.run([sys.executable, "-m", "skytwin_desktop"], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 1, (done.returncode, done.stderr[-500:])
    assert done.stderr.count("\n") == 1
    assert f"Cannot open the display '{env['DISPLAY']}'" in done.stderr and "core" not in done.stderr


def test_a_missing_library_is_named_with_its_package():
    assert missing_library([("libc.so.6", "libc6"), ("libskytwin-nowhere.so.0", "skytwin-nowhere0")]) == (
        "libskytwin-nowhere.so.0", "skytwin-nowhere0")
    assert missing_library([("libc.so.6", "libc6")]) is None


@pytest.mark.skipif(shutil.which("Xvfb") is None, reason="needs Xvfb (Debian package xvfb; .ci/run installs it)")
def test_a_real_display_passes():
    number = free_display()
    server = subprocess.Popen(["Xvfb", f":{number}", "-nolisten", "tcp"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while not Path(f"/tmp/.X11-unix/X{number}").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert display_problem({"DISPLAY": f":{number}"}) is None
        assert display_problem({"DISPLAY": f":{number}", "QT_QPA_PLATFORM": "offscreen"}) is None
    finally:
        server.terminate()
        server.wait(timeout=10)
