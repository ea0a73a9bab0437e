"""Benchmark of the one running app and its door: how soon a CLI pause shows in the tray, how long a
status read takes while the twin works through 1,000 signals, and how quickly a second launch
exits.

Run from the project folder (needs the test dependencies):

    .venv/bin/python benchmarks/bench_one_app.py

1. Pause and resume from the CLI with the tray running (Qt offscreen, no Google account): the time
   from starting `skytwin-desktop pause` to the tray showing "paused by you" (the tray logs every
   change of what it shows), alternating with `resume`. Baseline, same run: the CLI command's own
   time until it exits. Target: p95 <= 1 s.
2. `Intents.report()` (what every tray refresh and `status` reads) while the twin decides 1,000
   signals on another thread, sampled back to back. Baseline, same run: the same read with the
   twin idle. Target: p99 <= 50 ms.
3. A bare second `skytwin-desktop` while the tray runs, until it exits. Baseline, same run:
   `skytwin-desktop --version`. Target: <= 1 s.

It reports whether each target is met and always exits 0.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout without installing
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_pipeline import MESSAGES, fill_inbox, fresh_context, signals  # noqa: E402

from skytwin_desktop.intents import Intents  # noqa: E402
from tests.support.app_process import app_process, quit_app, until  # noqa: E402

PAUSES = 20
LAUNCHES = 8
PASSES = 3
TARGET_PUSH = 1.0
TARGET_READ_P99_MS = 50.0
TARGET_LAUNCH = 1.0


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def cli(env: dict[str, str], *args: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "skytwin_desktop", *args], env=env, check=True, capture_output=True,
                   timeout=60)
    return time.perf_counter() - started


class LogTail:
    """New lines of the app's log as they are written."""

    def __init__(self, path: Path) -> None:
        self.path, self.offset = path, path.stat().st_size

    def wait_for(self, text: str, limit: float = 30.0) -> float:
        deadline = time.monotonic() + limit
        with self.path.open("rb") as handle:
            handle.seek(self.offset)
            pending = b""
            while time.monotonic() < deadline:  # bounded
                pending += handle.read()
                if text.encode() in pending:
                    found = time.perf_counter()
                    self.offset = handle.tell()
                    return found
                time.sleep(0.002)
        raise SystemExit(f"the tray never showed {text!r}")


def push_and_launch(folder: Path) -> tuple[list[float], list[float], list[float], list[float]]:
    env = {**os.environ, "SKYTWIN_DATA_DIR": str(folder / "tray"), "QT_QPA_PLATFORM": "offscreen",
           "SKYTWIN_POLL_INTERVAL": "3600", "XDG_RUNTIME_DIR": tempfile.mkdtemp(prefix="rt-")}
    log = folder / "tray" / "logs" / "skytwin.log"
    pushes, commands, launches, versions = [], [], [], []
    with app_process(env) as app:
        if not until(lambda: log.exists() and "Tray started" in log.read_text(), 60):
            raise SystemExit("the tray did not start")
        tail = LogTail(log)
        for n in range(PAUSES):
            verb, shown = ("pause", "Tray shows: SkyTwin — not connected to Google; paused by you\n") if n % 2 == 0 \
                else ("resume", "Tray shows: SkyTwin — not connected to Google\n")
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "skytwin_desktop", verb], env=env, check=True,
                           capture_output=True, timeout=60)
            commands.append(time.perf_counter() - started)
            pushes.append(tail.wait_for(shown) - started)
        for _ in range(LAUNCHES):
            launches.append(cli(env))
            versions.append(cli(env, "--version"))
        quit_app(app)
    return pushes, commands, launches, versions


def reads_during_a_pass(folder: Path) -> tuple[list[float], list[float]]:
    busy, idle = [], []
    for run in range(PASSES):
        context = fresh_context(folder / f"pass-{run}")
        app = Intents(context)
        for _ in range(200):
            started = time.perf_counter()
            app.report()
            idle.append(time.perf_counter() - started)
        fill_inbox(context, signals(MESSAGES))
        worker = threading.Thread(target=context.twin.process_inbox)
        worker.start()
        deadline = time.monotonic() + 120
        while worker.is_alive() and time.monotonic() < deadline:  # bounded
            started = time.perf_counter()
            app.report()
            busy.append(time.perf_counter() - started)
        worker.join(timeout=5)
        context.close()
    return busy, idle


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="skytwin-door-") as name:
        folder = Path(name)
        pushes, commands, launches, versions = push_and_launch(folder)
        busy, idle = reads_during_a_pass(folder)
    p95 = percentile(pushes, 0.95)
    print(f"CLI pause/resume -> tray shows it: p50 {statistics.median(pushes) * 1000:.0f} ms, "
          f"p95 {p95 * 1000:.0f} ms over {len(pushes)} (the CLI command alone: p50 "
          f"{statistics.median(commands) * 1000:.0f} ms; "
          f"ratio {statistics.median(pushes) / statistics.median(commands):.2f}x) "
          f"target p95 <= {TARGET_PUSH:.0f} s: {'met' if p95 <= TARGET_PUSH else 'NOT met'}")
    p99 = percentile(busy, 0.99) * 1000
    print(f"status read during a {MESSAGES}-signal twin pass: p50 {statistics.median(busy) * 1000:.1f} ms, "
          f"p99 {p99:.1f} ms, max {max(busy) * 1000:.1f} ms over {len(busy)} reads (idle p50 "
          f"{statistics.median(idle) * 1000:.1f} ms, p99 {percentile(idle, 0.99) * 1000:.1f} ms; p99 ratio "
          f"{p99 / (percentile(idle, 0.99) * 1000):.1f}x) target p99 <= {TARGET_READ_P99_MS:.0f} ms: "
          f"{'met' if p99 <= TARGET_READ_P99_MS else 'NOT met'}")
    worst = max(launches)
    print(f"second launch -> exit: median {statistics.median(launches) * 1000:.0f} ms, "
          f"worst {worst * 1000:.0f} ms over "
          f"{len(launches)} (--version: median {statistics.median(versions) * 1000:.0f} ms; ratio "
          f"{statistics.median(launches) / statistics.median(versions):.2f}x) target <= {TARGET_LAUNCH:.0f} s: "
          f"{'met' if worst <= TARGET_LAUNCH else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
