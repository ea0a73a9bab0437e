"""The tray app's start: the icon first, then the rest.

Qt and the icon come up in a fraction of a second, saying "starting"; the store, Google and keyring
code load and the database opens on a worker thread while the event loop runs, and the icon shows
the real state once the app is built (the composition root's `attach_tray`). A failure to start
still ends the process with its one-line error and exit code, as a command does."""

from __future__ import annotations

import builtins
import contextlib
import logging
import signal
import socket
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from skytwin_desktop.domain import APP_TITLE
from skytwin_desktop.paths import resource

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from types import ModuleType
    from typing import Protocol

    from PySide6.QtWidgets import QApplication

    class ImportFunction(Protocol):
        """The shape of `builtins.__import__`."""

        def __call__(self, name: str, globals: Mapping[str, object] | None = None,
                     locals: Mapping[str, object] | None = None, fromlist: Sequence[str] | None = None,
                     level: int = 0) -> ModuleType: ...

    from skytwin_desktop.config import Config
    from skytwin_desktop.instance import InstanceLock, InstancePaths
    from skytwin_desktop.intents import Intents

log = logging.getLogger(__name__)
STARTING = "SkyTwin — starting…"
"""The icon's words until the real state is known: never a state that might not be true."""
_SIGNAL_WAKE: list[object] = []


def start_tray(config: Config, place: InstancePaths, lock: InstanceLock, *, demo: bool,
               serve: Callable[[Intents], Callable[[list[str], Callable[[str, str], None]], int]]) -> int:
    """Show the icon, build the app behind it, run until quit; the exit code. `serve(app)`: how
    the app answers a command line from the socket."""
    plain_import = builtins.__import__
    from PySide6.QtCore import QObject, Qt, Signal
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication, QMenu, QSystemTrayIcon

    skip_feature_import(plain_import)

    class Loader(QObject):
        built = Signal(object)
        failed = Signal(object)

    qt = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(qt, QApplication), "the tray needs a QApplication, not a bare QCoreApplication"
    qt.setApplicationName(APP_TITLE)
    qt.setDesktopFileName("skytwin-desktop")
    qt.setQuitOnLastWindowClosed(False)
    icon = QIcon(str(resource("icons", "skytwin.svg")))
    qt.setWindowIcon(icon)
    tray = QSystemTrayIcon(icon)
    tray.setToolTip(STARTING)
    menu = QMenu()
    menu.addAction(STARTING).setEnabled(False)
    menu.addSeparator()
    menu.addAction("&Quit", qt.quit)
    tray.setContextMenu(menu)
    if QSystemTrayIcon.isSystemTrayAvailable():
        tray.show()
    quit_on_signals(qt)
    loader = Loader()
    outcome: dict[str, object] = {}

    def build() -> None:
        try:
            from skytwin_desktop.composition import open_app  # the heavy imports, off the GUI thread

            app = open_app(config, demo=demo)
            try:
                if demo:
                    from skytwin_desktop.domain import Connector

                    for connector in Connector:
                        app.connect(connector)
                app.running = True
            except BaseException:
                app.close()
                raise
            loader.built.emit(app)
        except BaseException as exc:  # noqa: BLE001 - handed to the GUI thread, raised from here
            loader.failed.emit(exc)

    def built(app: Intents) -> None:
        from skytwin_desktop.composition import attach_tray

        outcome["app"] = app
        if "quit" in outcome:  # quit while it was still starting
            return
        try:
            outcome["parts"] = attach_tray(qt, tray, app, lock, place.socket, serve(app), demo=demo)
        except BaseException as exc:  # noqa: BLE001 - raised from start_tray, in one line
            failed(exc)

    def failed(exc: BaseException) -> None:
        outcome["error"] = exc
        qt.exit(1)

    loader.built.connect(built, Qt.ConnectionType.QueuedConnection)
    loader.failed.connect(failed, Qt.ConnectionType.QueuedConnection)
    qt.aboutToQuit.connect(lambda: outcome.setdefault("quit", True))
    threading.Thread(target=build, name="start", daemon=True).start()
    try:
        code = qt.exec()
    finally:
        tray.hide()
        app = outcome.get("app")
        if app is not None:
            app.close()  # type: ignore[attr-defined]
    error = outcome.get("error")
    if isinstance(error, BaseException):
        raise error
    return code


def skip_feature_import(plain_import: ImportFunction) -> None:
    """PySide replaces `__import__` with its own, which inspects every module imported after Qt for
    its optional `__feature__` syntax (snake_case, true_property; this app uses neither) and keeps
    what it learnt: about 25 MiB for the store and Google code that load after the icon. The
    plain import is put back once Qt is in."""
    current = builtins.__import__
    if current is not plain_import and getattr(current, "__name__", "") == "__feature_import__":
        builtins.__import__ = plain_import


def quit_on_signals(app: QApplication) -> None:
    """SIGTERM or Ctrl-C (a logout, `kill`, a terminal) quits as cleanly as the menu's Quit.

    Python runs a signal's handler only when the main thread next runs Python code, and Qt's loop
    sleeps in C. The interpreter writes the signal's number to a socket (`set_wakeup_fd`) whose
    notifier wakes the loop into Python: no timer, no wake-ups until a signal comes."""
    from PySide6.QtCore import QSocketNotifier, QTimer

    def request_quit(*_args: object) -> None:
        QTimer.singleShot(0, app.quit)

    reader, writer = socket.socketpair()
    for end in (reader, writer):
        end.setblocking(False)
    signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
    notifier = QSocketNotifier(reader.fileno(), QSocketNotifier.Type.Read, app)

    def drained() -> None:
        with contextlib.suppress(OSError):
            reader.recv(64)  # the handler itself runs now, as this Python code does

    notifier.activated.connect(drained)
    _SIGNAL_WAKE.extend((reader, writer, notifier))  # alive as long as the process
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, request_quit)
