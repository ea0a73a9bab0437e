"""Soak: the tray app polling the sandbox once a second for an hour, with faults mixed in, checked
for leaks and unbounded growth. Not part of the test run.

Run from the project folder (needs the test dependencies):

    .venv/bin/python benchmarks/soak.py [--cycles 3600] [--warmup 700] [--period 1]
                                        [--trace 100] [--tracemalloc 450:850]

The app runs in a process of its own, as the tray does (Qt offscreen, the real composition root:
windows, notifications, the socket door, the scheduler), with one addition: a cycle of every
connected service (a poll and the twin's pass, the scheduler's own `cycle`) each second, since the
shortest poll interval the app accepts is 5 s. This process keeps the Google sandbox (mail arrives
every few cycles) and, every few hundred cycles, mixes in a burst of 5xx answers, a revoked grant
followed by a reconnect through the running app, and a pause and resume from the command line.

The warm-up holds one of each kind of event (the first 5xx burst at 150, pause and resume at 200 and
260, a revocation and the sign-ins after it at 300 and 330, the next pause at 600): what a kind of
event loads the first time it happens (the sign-in flow's modules, say) is not growth.

It reads the app's /proc entries at the end of the warm-up and at the end, and prints and checks:
RSS growth after the warm-up <= 5 MiB; threads and open files flat; the log within its rotation
(6 files of 1 MB); the database file's growth per row kept (decisions, actions, approvals, handled
items: what `history_days` bounds) and the write-ahead log within SQLite's checkpoints. Exits 1 if
a check fails.

To find where memory goes: `--trace N` prints the app's memory every N cycles (RSS, what malloc
holds in use and free, SQLite's own, Python's blocks and objects), and `--tracemalloc FROM:TO`
prints the Python allocations that grew between those cycles, by where they were made (it slows
the app). `--period` shortens the cycle for a quick look; the figures that count use 1 s.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

RSS_GROWTH_MIB = 5.0
LOG_BOUND = 6 * 1_000_000 + 100_000  # skytwin.log and 5 rotated files of 1 MB, and a line or two over
WAL_BOUND = 8 * 1024 * 1024  # SQLite checkpoints at 1,000 pages (4 MiB) and reuses the file
NEWSLETTER = {"List-Unsubscribe": "<mailto:leave@news.example>"}


def child() -> int:
    """The app under soak: the tray app's own parts, plus a cycle of each connected service each second."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QSystemTrayIcon

    from skytwin_desktop.cli import serve
    from skytwin_desktop.composition import attach_tray, open_app
    from skytwin_desktop.config import Config
    from skytwin_desktop.instance import InstanceLock, instance_paths

    config = Config.from_env()
    qt = QApplication([])
    qt.setQuitOnLastWindowClosed(False)
    place = instance_paths(config.data_dir, demo=False)
    lock = InstanceLock.acquire(place.lock)
    assert lock is not None, "another app runs for this data folder"
    app = open_app(config)
    app.running = True
    parts = attach_tray(qt, QSystemTrayIcon(), app, lock, place.socket,
                        lambda argv, write: serve(app, argv, write))
    busy = threading.Event()
    cycles = 0
    trace = int(os.environ.get("SOAK_TRACE", "0"))
    traced_from, _, traced_to = os.environ.get("SOAK_TRACEMALLOC", "0:0").partition(":")
    snapshots: list[object] = []

    def cycle() -> None:
        nonlocal cycles
        try:
            for connector in sorted(app.connected()):
                parts.scheduler.cycle(connector)
        except Exception as exc:  # noqa: BLE001 - counted by the parent from the log
            print(f"cycle failed: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        finally:
            cycles += 1
            if trace and cycles % trace == 0:
                print(f"trace {cycles} {memory_line()}", file=sys.stderr, flush=True)
            if cycles == int(traced_from):
                tracemalloc.start(12)
                snapshots.append(tracemalloc.take_snapshot())
            if cycles == int(traced_to) and snapshots:
                grown = tracemalloc.take_snapshot().compare_to(snapshots[0], "traceback")  # type: ignore[arg-type]
                for stat in grown[:12]:
                    print(f"tracemalloc {stat.size_diff / 1024:+.1f} KiB {stat.count_diff:+d} blocks, made at:",
                          *(f"tracemalloc   {line}" for line in stat.traceback.format()[-16:]),
                          sep="\n", file=sys.stderr)
                sys.stderr.flush()
            busy.clear()

    def tick() -> None:
        if not busy.is_set():
            busy.set()
            threading.Thread(target=cycle, name="soak-cycle", daemon=True).start()

    timer = QTimer()
    timer.timeout.connect(tick)
    timer.start(int(1000 * float(os.environ.get("SOAK_PERIOD", "1"))))  # set by the parent from --period
    import signal

    signal.signal(signal.SIGTERM, lambda *_: QTimer.singleShot(0, qt.quit))
    QTimer.singleShot(0, lambda: print("ready", flush=True))
    code = qt.exec()
    parts.scheduler.shutdown()
    app.close()
    lock.release()
    return code


def memory_line() -> str:
    """Where the process's memory is, for the curve: RSS, what malloc holds in use and free, SQLite's
    own allocations, Python's small blocks and objects."""
    import ctypes
    import gc

    class MallInfo2(ctypes.Structure):
        _fields_ = [(name, ctypes.c_size_t) for name in
                    ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
                     "keepcost")]

    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = MallInfo2
    info = libc.mallinfo2()
    sqlite = ctypes.CDLL("libsqlite3.so.0")
    sqlite.sqlite3_memory_used.restype = ctypes.c_int64
    status = Path("/proc/self/status").read_text()
    rss = int(re.search(r"^VmRSS:\s+(\d+) kB", status, re.M).group(1)) / 1024
    mib = 1024 * 1024
    return (f"rss={rss:.1f} malloc_used={(info.uordblks + info.hblkhd) / mib:.1f} "
            f"malloc_free={info.fordblks / mib:.1f} "
            f"sqlite={sqlite.sqlite3_memory_used() / mib:.1f} pyblocks={sys.getallocatedblocks()} "
            f"objects={len(gc.get_objects())} none_refs={sys.getrefcount(None)}")


def proc_figures(pid: int, data: Path) -> dict[str, float]:
    status = Path(f"/proc/{pid}/status").read_text()
    rss = int(re.search(r"^VmRSS:\s+(\d+) kB", status, re.M).group(1)) / 1024
    threads = int(re.search(r"^Threads:\s+(\d+)", status, re.M).group(1))
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    database = (data / "skytwin.db").stat().st_size
    wal = data / "skytwin.db-wal"
    journal = wal.stat().st_size if wal.exists() else 0
    logs = sum(p.stat().st_size for p in (data / "logs").glob("*") if p.is_file())
    return {"rss_mib": rss, "threads": threads, "fds": fds, "database": database, "wal": journal, "logs": logs}


def kept_rows(database: Path) -> int:
    import sqlite3

    with sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True) as db:
        return sum(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                   for table in ("decision_log", "action_records", "approvals", "processed_signals"))


def run(command: list[str], env: dict[str, str], *, done: str | None = None) -> int:
    """A command line carried out by the running app: its exit code (124 when it did not end in
    2 min), or 0 when its output says `done` (a sign-in whose first poll met a 5xx burst exits 1,
    but it did sign in)."""
    try:
        finished = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        return 124
    return 0 if done is not None and done in finished.stdout else finished.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=3600, help="seconds of polling (default 3600)")
    parser.add_argument("--warmup", type=int, default=700,
                        help="cycles before the first reading, one of each kind of event (default 700)")
    parser.add_argument("--period", type=float, default=1.0, help="seconds per cycle (default 1)")
    parser.add_argument("--trace", type=int, default=0, metavar="N",
                        help="print the app's memory every N cycles, and the curve at the end")
    parser.add_argument("--tracemalloc", default="0:0", metavar="FROM:TO",
                        help="print the Python allocations that grew between these cycles")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child()

    from skytwin_desktop.sandbox import GoogleSandbox
    from tests.support.app_process import connected_environment

    scratch = Path(tempfile.mkdtemp(prefix="soak-"))
    data = scratch / "data"
    with GoogleSandbox() as sandbox:
        env = connected_environment(sandbox, data) | {"QT_QPA_PLATFORM": "offscreen", "SKYTWIN_POLL_INTERVAL": "3600",
                                                      "XDG_RUNTIME_DIR": str(scratch / "rt"),
                                                      "SOAK_PERIOD": str(args.period), "SOAK_TRACE": str(args.trace),
                                                      "SOAK_TRACEMALLOC": args.tracemalloc}
        (scratch / "rt").mkdir(mode=0o700)
        env.pop("DBUS_SESSION_BUS_ADDRESS", None)
        cli = [sys.executable, "-m", "skytwin_desktop"]
        run([*cli, "tier", "low_autonomy"], env)  # newsletters are archived by the twin itself
        errors = scratch / "app-stderr.txt"  # a file: a pipe nobody reads would stall the app once full
        app = subprocess.Popen([sys.executable, __file__, "--child"], env=env, stdout=subprocess.PIPE,
                               stderr=errors.open("w"), text=True)
        assert app.stdout is not None and app.stdout.readline().strip() == "ready", "the app did not start"
        history = lambda: sum(1 for _, path, _ in sandbox.requests if path.endswith("/history"))  # noqa: E731
        warm: dict[str, float] = {}
        events = {"mail": 0, "5xx bursts": 0, "revoked and reconnected": 0, "paused and resumed": 0}
        refused = 0  # commands the running app did not carry out
        start = time.monotonic()
        for second in range(1, args.cycles + 1):
            time.sleep(max(0.0, start + second * args.period - time.monotonic()))
            if app.poll() is not None:
                print(f"the app ended at cycle {second}: {errors.read_text()[-2000:]}")
                return 1
            if second % 5 == 0:
                sandbox.deliver({"from": "digest@news.example", "subject": f"Issue {second}", "body": "x" * 2000,
                                 "headers": NEWSLETTER})
                events["mail"] += 1
            if second % 300 == 150:
                sandbox.fail_next("/gmail/v1", 503, count=3)
                sandbox.fail_next("/calendar/v3", 500, count=3)
                events["5xx bursts"] += 1
            if second % 600 == 300:
                sandbox.revoke_grant("gmail")
                sandbox.expire_access_tokens()
            if second % 600 == 330:  # Google ends the whole grant of the account: both need signing in again
                reconnected = all(run([*cli, "connect", name], env, done=f"{name.title()} connected") == 0
                                  for name in ("gmail", "calendar"))
                events["revoked and reconnected"] += reconnected
                refused += not reconnected
            if second % 400 == 200:
                refused += run([*cli, "pause", "--reason", "soak"], env) != 0
            if second % 400 == 260:
                resumed = run([*cli, "resume"], env) == 0
                events["paused and resumed"] += resumed
                refused += not resumed
            if second == args.warmup:
                warm = proc_figures(app.pid, data) | {"rows": kept_rows(data / "skytwin.db"), "polls": history()}
        end = proc_figures(app.pid, data) | {"rows": kept_rows(data / "skytwin.db"), "polls": history()}
        app.terminate()
        try:
            app.wait(timeout=30)
        except subprocess.TimeoutExpired:
            app.kill()
        said = errors.read_text()
        failures = said.count("cycle failed")

    growth = end["rss_mib"] - warm["rss_mib"]
    per_row = (end["database"] - warm["database"]) / max(1, end["rows"] - warm["rows"])
    checks = [
        ("RSS after warm-up (MiB)", f"{warm['rss_mib']:.1f} -> {end['rss_mib']:.1f} ({growth:+.1f})",
         growth <= RSS_GROWTH_MIB, f"growth <= {RSS_GROWTH_MIB:.0f} MiB"),
        ("threads", f"{warm['threads']:.0f} -> {end['threads']:.0f}", end["threads"] <= warm["threads"] + 2, "flat"),
        ("open files", f"{warm['fds']:.0f} -> {end['fds']:.0f}", end["fds"] <= warm["fds"] + 2, "flat"),
        ("log size (bytes)", f"{end['logs']:.0f}", end["logs"] <= LOG_BOUND, f"<= {LOG_BOUND} (rotation)"),
        ("database per row kept (bytes)", f"{per_row:.0f} ({warm['rows']:.0f} -> {end['rows']:.0f} rows)",
         per_row <= 8192, "<= 8 KiB: bounded by what is kept"),
        ("write-ahead log (bytes)", f"{end['wal']:.0f}", end["wal"] <= WAL_BOUND, f"<= {WAL_BOUND} (checkpoints)"),
        ("cycles that failed", f"{failures}", failures == 0, "0"),
        ("commands the app did not carry out", f"{refused}", refused == 0, "0"),
    ]
    print(f"\nsoak: {args.cycles} cycles ({end['polls']:.0f} history reads at the sandbox), warm-up {args.warmup}; "
          + ", ".join(f"{count} {name}" for name, count in events.items()))
    print(f"{'figure':<32} {'value':<34} target")
    for name, value, met, target in checks:
        print(f"{name:<32} {value:<34} {target}{'' if met else '  NOT met'}")
    print(f"{os.cpu_count()} CPUs; Python {sys.version.split()[0]}")
    if args.trace or args.tracemalloc != "0:0":
        print("\nThe app's memory, cycle by cycle:", *(line for line in said.splitlines()
                                                     if line.startswith(("trace ", "tracemalloc "))), sep="\n")
    return 0 if all(met for *_, met, _ in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
