"""Benchmark: start-up, memory and idle cost of the tray app against the bare-Qt floor.

Run from the project folder (needs the test dependencies, and Debian's xvfb, tint2 and x11-utils):

    .venv/bin/python benchmarks/bench_startup.py [--starts N] [--idle-runs N] [--idle-seconds S]

The floor is a bare PySide6 app that only shows a QSystemTrayIcon, run by the same interpreter. Both
run under Xvfb with tint2 as the XEmbed tray host, alternately, from cold processes. SkyTwin runs
with Gmail and Calendar connected to the local Google sandbox and a 300 s poll interval.

Figures (median of the runs, after one untimed start of each to warm the caches; the floor's
beside it, and the ratio):
- icon docked: from the process start to its icon window sitting in the tray (xwininfo);
- true state: to the tray showing the real state (SkyTwin logs every change of what it shows);
- PSS 10 s after docking, from /proc/PID/smaps_rollup;
- idle CPU (ms per minute) and wake-ups (context switches of all threads per second) over the idle
  window, from /proc/PID/task/*/schedstat (nanoseconds; /proc/PID/stat's ticks where it is missing
  or a thread ended within the window)
  and /proc/PID/task/*/status;
- CLI `--version` and `status` (baseline: `python -c pass`).

Beside the table, a third process gives the PSS of the "libraries floor": the floor with the chosen
stack's libraries imported and left unused, so the figure above the floor splits into what the
libraries cost by being there and what SkyTwin's own code and data add.

Targets: docked <= 1.5 x floor; PSS <= floor + 35 MiB; idle CPU <= 2 x floor or <= 1 ms/min;
wake-ups <= 0.1/s; `--version` <= 0.3 s; `status` <= 0.5 s. Reports whether each is met; exits 0.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from skytwin_desktop.sandbox import GoogleSandbox  # noqa: E402
from tests.support.app_process import connected_environment  # noqa: E402

DISPLAY = ":93"
FLOOR_NAME = "SkyTwin floor"
FLOOR = textwrap.dedent(f"""
    import sys
    from PySide6.QtGui import QIcon, QPixmap, QColor
    from PySide6.QtWidgets import QApplication, QSystemTrayIcon
    app = QApplication(sys.argv)
    app.setApplicationName({FLOOR_NAME!r})
    app.setQuitOnLastWindowClosed(False)
    pixmap = QPixmap(22, 22)
    pixmap.fill(QColor("teal"))
    icon = QSystemTrayIcon(QIcon(pixmap))
    icon.setToolTip("floor")
    icon.show()
    sys.exit(app.exec())
""")
LIBRARIES_NAME = "SkyTwin libraries floor"
LIBRARIES = FLOOR.replace(repr(FLOOR_NAME), repr(LIBRARIES_NAME)).replace("sys.exit(app.exec())", textwrap.dedent("""
    import sqlalchemy, sqlalchemy.orm, sqlalchemy.dialects.sqlite
    import google.oauth2.credentials, google.auth.transport.requests
    import keyring
    keyring.get_keyring()
    import apscheduler.schedulers.background
    import gc
    gc.collect()
    sys.exit(app.exec())
"""))
assert LIBRARIES.count("import sqlalchemy") == 1, "the libraries go in before the floor's event loop"
"""The floor with the chosen stack's libraries loaded and nothing done with them: what the stack
costs before any code of SkyTwin's runs (SQLAlchemy Core and ORM with its SQLite dialect,
google-auth with requests, keyring with the backend SkyTwin's run uses, APScheduler; the import's
garbage collected, as SkyTwin does once it has started)."""
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Figures:
    docked: list[float] = field(default_factory=list)
    true_state: list[float] = field(default_factory=list)
    pss_mib: list[float] = field(default_factory=list)
    cpu_ms_per_min: list[float] = field(default_factory=list)
    wakeups_per_s: list[float] = field(default_factory=list)


def wait_until(predicate: Callable[[], object], limit: float, step: float = 0.02) -> float | None:
    """Seconds until `predicate` came true, or None after `limit` seconds."""
    start = time.monotonic()
    while time.monotonic() - start < limit:
        if predicate():
            return time.monotonic() - start
        time.sleep(step)
    return None


def docked(name: str) -> bool:
    """Whether a window of `name` sits in the tray: a small icon-sized window, reparented."""
    tree = subprocess.run(["xwininfo", "-root", "-tree"], capture_output=True, text=True,
                          env={**os.environ, "DISPLAY": DISPLAY}).stdout
    return any(f'"{name}"' in line and re.search(r" [12][0-9]x[12][0-9]\+", line) for line in tree.splitlines())


def pss_mib(pid: int) -> float:
    text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    return int(re.search(r"^Pss:\s+(\d+) kB", text, re.M).group(1)) / 1024


CpuSample = tuple[dict[str, int], float]
"""Per-thread CPU time in ns (/proc/PID/task/*/schedstat, empty where the kernel keeps none), and
the whole process's in ms from /proc/PID/stat's clock ticks, which include threads that ended."""


def cpu_sample(pid: int) -> CpuSample:
    threads = {}
    for task in Path(f"/proc/{pid}/task").glob("*/schedstat"):
        try:
            threads[task.parent.name] = int(task.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue  # a thread that ended meanwhile
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return threads, (int(fields[11]) + int(fields[12])) * 1000 / TICKS  # utime + stime


def cpu_ms_between(before: CpuSample, after: CpuSample) -> float:
    """CPU ms from one sample to the next: in nanoseconds while every thread lived through it (the
    ticks' 10 ms grain turns one short wake-up into 10 ms/min over a minute); from the ticks when a
    thread ended in between (its time would be lost from the sum) or the kernel keeps no schedstat.
    A thread that both starts and ends in between is missed by the first."""
    (threads_before, ticks_before), (threads_after, ticks_after) = before, after
    if threads_before and threads_before.keys() <= threads_after.keys():
        return sum(ns - threads_before.get(tid, 0) for tid, ns in threads_after.items()) / 1e6
    return ticks_after - ticks_before


def switches(pid: int) -> int:
    total = 0
    for status in Path(f"/proc/{pid}/task").glob("*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue  # a thread that ended meanwhile
        total += sum(int(n) for n in re.findall(r"^(?:non)?voluntary_ctxt_switches:\s+(\d+)", text, re.M))
    return total


def run_once(command: list[str], env: dict[str, str], name: str, figures: Figures, idle: float,
             log: Path | None) -> None:
    start = time.monotonic()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        took = wait_until(lambda: docked(name), 60)
        if took is None:
            raise RuntimeError(f"{name}: the icon never docked")
        figures.docked.append(took)
        if log is not None:
            shown = wait_until(lambda: log.exists() and re.search(r"Tray shows: SkyTwin — (?!starting)",
                                                                   log.read_text()), 60)
            figures.true_state.append(time.monotonic() - start if shown is not None else float("nan"))
        else:
            figures.true_state.append(took)
        time.sleep(max(0.0, 10 - (time.monotonic() - start - took)))
        figures.pss_mib.append(pss_mib(process.pid))
        if idle:
            used, woken = cpu_sample(process.pid), switches(process.pid)
            time.sleep(idle)
            figures.cpu_ms_per_min.append(cpu_ms_between(used, cpu_sample(process.pid)) * 60 / idle)
            figures.wakeups_per_s.append((switches(process.pid) - woken) / idle)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def timed(command: list[str], env: dict[str, str], runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        start = time.monotonic()
        subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times.append(time.monotonic() - start)
    return statistics.median(times)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=5, help="cold starts of each (default 5)")
    parser.add_argument("--idle-runs", type=int, default=2, help="of those, how many measure idle (default 2)")
    parser.add_argument("--idle-seconds", type=float, default=60, help="the idle window (default 60)")
    args = parser.parse_args()
    for tool in ("Xvfb", "tint2", "xwininfo"):
        if shutil.which(tool) is None:
            print(f"bench_startup: needs {tool} (Debian: xvfb, tint2, x11-utils); nothing measured")
            return 0
    scratch = Path(tempfile.mkdtemp(prefix="bench-startup-"))
    xvfb = subprocess.Popen(["Xvfb", DISPLAY, "-screen", "0", "900x600x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = {k: v for k, v in os.environ.items() if k not in ("DBUS_SESSION_BUS_ADDRESS", "WAYLAND_DISPLAY")}
    base |= {"DISPLAY": DISPLAY, "QT_QPA_PLATFORM": "xcb", "XDG_RUNTIME_DIR": str(scratch / "rt")}
    (scratch / "rt").mkdir(mode=0o700)
    time.sleep(1)
    tint2 = subprocess.Popen(["tint2"], env=base, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(2)
    floor, app, libraries = Figures(), Figures(), Figures()
    try:
        with GoogleSandbox() as sandbox:
            env = connected_environment(sandbox, scratch / "data") | {"SKYTWIN_POLL_INTERVAL": "300"}
            env |= {k: v for k, v in base.items() if k in ("DISPLAY", "QT_QPA_PLATFORM", "XDG_RUNTIME_DIR")}
            env.pop("DBUS_SESSION_BUS_ADDRESS", None)
            log = scratch / "data" / "logs" / "skytwin.log"
            run_once([sys.executable, "-c", FLOOR], base, FLOOR_NAME, Figures(), 0, None)  # warm the caches
            run_once([sys.executable, "-m", "skytwin_desktop"], env, "SkyTwin Desktop", Figures(), 0, log)
            for number in range(args.starts):
                idle = args.idle_seconds if number < args.idle_runs else 0
                run_once([sys.executable, "-c", FLOOR], base, FLOOR_NAME, floor, idle, None)
                run_once([sys.executable, "-c", LIBRARIES], env, LIBRARIES_NAME, libraries, 0, None)
                log.write_text("")  # only this start's lines
                run_once([sys.executable, "-m", "skytwin_desktop"], env, "SkyTwin Desktop", app, idle, log)
                print(f"start {number + 1}/{args.starts}: floor docked {floor.docked[-1]:.2f} s, "
                      f"SkyTwin docked {app.docked[-1]:.2f} s", flush=True)
            cli_base = timed([sys.executable, "-c", "pass"], env)
            version = timed([sys.executable, "-m", "skytwin_desktop", "--version"], env)
            status = timed([sys.executable, "-m", "skytwin_desktop", "status"], env)
    finally:
        tint2.terminate()
        xvfb.terminate()
        shutil.rmtree(scratch, ignore_errors=True)

    rows = [
        ("icon docked (s)", median(floor.docked), median(app.docked), "ratio", 1.5),
        ("true state shown (s)", median(floor.true_state), median(app.true_state), "ratio", None),
        ("PSS 10 s after (MiB)", median(floor.pss_mib), median(app.pss_mib), "plus", 35.0),
        ("idle CPU (ms/min)", median(floor.cpu_ms_per_min), median(app.cpu_ms_per_min), "cpu", None),
        ("idle wake-ups (/s)", median(floor.wakeups_per_s), median(app.wakeups_per_s), "abs", 0.1),
        ("CLI --version (s)", cli_base, version, "abs", 0.3),
        ("CLI status (s)", cli_base, status, "abs", 0.5),
    ]
    print(f"\n{'figure':<22} {'floor':>9} {'SkyTwin':>9} {'ratio':>7}  target")
    for label, base_value, value, kind, target in rows:
        ratio = value / base_value if base_value else float("inf")
        if kind == "ratio" and target is not None:
            met, goal = ratio <= target, f"<= {target} x floor"
        elif kind == "plus":
            met, goal = value <= base_value + target, f"<= floor + {target:.0f}"
        elif kind == "cpu":
            met, goal = value <= max(2 * base_value, 1.0), "<= 2 x floor or <= 1 ms/min"
        elif kind == "abs":
            met, goal = value <= target, f"<= {target}"
        else:
            met, goal = None, "-"
        mark = "" if met is None else (" met" if met else " NOT met")
        print(f"{label:<22} {base_value:>9.2f} {value:>9.2f} {ratio:>6.2f}x  {goal}{mark}")
    stack, bare, ours = median(libraries.pss_mib), median(floor.pss_mib), median(app.pss_mib)
    print(f"\nlibraries floor (the floor with SQLAlchemy, google-auth, keyring and APScheduler loaded, unused): "
          f"PSS {stack:.1f} MiB = floor + {stack - bare:.1f}; SkyTwin {abs(ours - stack):.1f} MiB "
          f"{'above' if ours >= stack else 'below'} it")
    print(f"\n{args.starts} cold starts each, {args.idle_runs} of them idle for {args.idle_seconds:.0f} s; "
          f"{os.cpu_count()} CPUs; Python {sys.version.split()[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
