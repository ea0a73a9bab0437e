"""Test configuration: headless Qt, and every test isolated in its own HOME, XDG dirs and data dir."""

from __future__ import annotations

import gc
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import webbrowser
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

# Set before any Qt module loads, so no test depends on the person remembering to.
os.environ["QT_QPA_PLATFORM"] = "offscreen"

from skytwin_desktop.cli import main
from skytwin_desktop.composition import AppContext, build_context
from skytwin_desktop.config import Config

REPO_ROOT = Path(__file__).resolve().parent.parent
FAKE_BROWSER = Path(__file__).parent / "support" / "fake_browser.py"


@pytest.fixture(autouse=True)
def processes_are_marked_slow(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch):
    """A test that starts a process (the app, the CLI, a browser, Xvfb, dunst…) carries the `slow`
    marker, so `pytest -m "not slow"` is a quick loop of in-process tests; this keeps that true."""
    started: list[object] = []
    real = subprocess.Popen.__init__

    def recording(self: subprocess.Popen[bytes], *args: object, **kwargs: object) -> None:
        started.append(args[0] if args else kwargs.get("args"))
        real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(subprocess.Popen, "__init__", recording)
    yield
    if started and request.node.get_closest_marker("slow") is None:
        pytest.fail(f"starts a process ({started[0]!r}) but is not marked slow", pytrace=False)


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """No test sees the real home, the real data dir, the person's keyring or browser, or a
    SKYTWIN_* variable from the shell; and what the code under test sets in os.environ is undone."""
    saved_environ = dict(os.environ)
    for name in list(os.environ):
        if name.startswith("SKYTWIN_") or name in ("PYTHON_KEYRING_BACKEND", "BROWSER", "OAUTHLIB_INSECURE_TRANSPORT"):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    for var, sub in {
        "HOME": "",
        "XDG_DATA_HOME": ".local/share",
        "XDG_CONFIG_HOME": ".config",
        "XDG_CACHE_HOME": ".cache",
        "XDG_STATE_HOME": ".local/state",
    }.items():
        path = home / sub
        path.mkdir(parents=True, exist_ok=True)
        monkeypatch.setenv(var, str(path))
    monkeypatch.setenv("SKYTWIN_DATA_DIR", str(tmp_path / "data"))
    # webbrowser learns BROWSER once per process; each test's own is the one it must use.
    monkeypatch.setattr(webbrowser, "_tryorder", None)
    monkeypatch.setattr(webbrowser, "_browsers", {})
    runtime = Path(tempfile.mkdtemp(prefix="rt-"))  # short: socket paths have a length limit
    runtime.chmod(0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    yield
    os.environ.clear()
    os.environ.update(saved_environ)
    shutil.rmtree(runtime, ignore_errors=True)
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "_skytwin", False)]:
        root.removeHandler(handler)
        handler.close()


def pytest_configure(config: pytest.Config) -> None:
    """As in the running app (skytwin_desktop.heap): what is loaded by now lives to the end and is
    kept out of the collector's walk (a full walk of Qt, SQLAlchemy and the rest is ~125 ms, too
    much after every test), and collection happens on the main thread only."""
    gc.collect()
    gc.freeze()
    gc.disable()


@pytest.fixture(autouse=True)
def qt_garbage_dies_on_the_gui_thread():
    """What a test let go of is collected here, on the main thread, once its fixtures are gone: left
    to the automatic collector, Qt objects could be finalised by a worker thread (an approval
    running in the background) and crash, since they must die on their own thread."""
    yield
    gc.collect(1)  # what the test made (older survivors were walked before): cheap enough after every test


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


class FixedClock:
    """A clock tests move by hand."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 3, 14, 9, 30, tzinfo=UTC))


@pytest.fixture
def context(clock: FixedClock):
    ctx: AppContext = build_context(Config.from_env(), clock=clock)
    yield ctx
    ctx.close()


@dataclass
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]):
    """Run `skytwin-desktop ARGS` in-process and capture what it prints and its exit code."""

    def run(*args: str) -> CliResult:
        capsys.readouterr()
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse's own exits (--version, usage errors)
            code = exc.code if isinstance(exc.code, int) else 1
        captured = capsys.readouterr()
        return CliResult(code=code, out=captured.out, err=captured.err)

    return run


@pytest.fixture
def sandbox():
    from skytwin_desktop.sandbox import GoogleSandbox

    with GoogleSandbox() as running:
        yield running


@pytest.fixture
def google(sandbox, monkeypatch, tmp_path):
    """The app's environment pointed at the sandbox, with a keyring file and a stand-in browser."""
    monkeypatch.setenv("SKYTWIN_GOOGLE_API_ROOT", sandbox.url)
    monkeypatch.setenv("SKYTWIN_GOOGLE_CLIENT_SECRETS", str(sandbox.write_client_secrets(tmp_path / "client.json")))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyrings.alt.file.PlaintextKeyring")
    monkeypatch.setenv("BROWSER", f"{sys.executable} {FAKE_BROWSER} %s")
    return sandbox
