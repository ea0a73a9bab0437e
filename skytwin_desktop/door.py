"""The running app's local socket: the door the CLI (and any local script) knocks on.

One request per connection (see `instance` for the protocol). Requests are read on the GUI
thread, which never waits: each command runs on a worker thread, and what it prints comes back
to the GUI thread through a queued signal to be written out. A malformed, oversized or unknown
request is answered with an error and the app carries on; a connection that sends nothing is
closed after a while."""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from skytwin_desktop.instance import MAX_REQUEST, BadRequest, parse_request, reply

log = logging.getLogger(__name__)
IDLE_MS = 10_000
"""A connection that has not sent a whole request by then is closed."""
Serve = Callable[[list[str], Callable[[str, str], None]], int]
"""Runs a command line, writing ("out" | "err", text) as it goes; returns the exit code."""


class SocketDoor(QObject):
    _write = Signal(int, bytes)
    _close = Signal(int)

    def __init__(self, path: Path, serve: Serve, show: Callable[[], None], parent: QObject | None = None) -> None:
        """`show`: what a bare second launch asks for (bring the status window forward)."""
        super().__init__(parent)
        self.path = path
        self._serve, self._show = serve, show
        self._server = QLocalServer(self)
        self._server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self._server.newConnection.connect(self._accept)
        self._open: dict[int, QLocalSocket] = {}
        self._buffers: dict[int, bytes] = {}
        self._ids = itertools.count(1)
        self._write.connect(self._send, Qt.ConnectionType.QueuedConnection)
        self._close.connect(self._finish, Qt.ConnectionType.QueuedConnection)

    def listen(self) -> None:
        """Take over the socket (a crashed app's leftover file is removed: we hold the lock)."""
        QLocalServer.removeServer(str(self.path))
        if not self._server.listen(str(self.path)):
            raise OSError(f"cannot listen on {self.path}: {self._server.errorString()}")
        log.info("Listening for commands at %s", self.path)

    def close(self) -> None:
        self._server.close()
        for connection in list(self._open.values()):
            connection.abort()
        self._open.clear()

    def _accept(self) -> None:
        while self._server.hasPendingConnections():
            connection = self._server.nextPendingConnection()
            key = next(self._ids)
            self._open[key] = connection
            self._buffers[key] = b""
            connection.readyRead.connect(lambda key=key: self._read(key))
            connection.disconnected.connect(lambda key=key: self._forget(key))
            QTimer.singleShot(IDLE_MS, self, lambda key=key: self._drop_idle(key))

    def _read(self, key: int) -> None:
        connection = self._open.get(key)
        if connection is None or key not in self._buffers:
            return
        pending = self._buffers[key] + bytes(connection.readAll().data())
        if b"\n" not in pending:
            if len(pending) > MAX_REQUEST:
                self._refuse(key, f"the request is longer than {MAX_REQUEST} bytes")
            else:
                self._buffers[key] = pending
            return
        line = pending.split(b"\n", 1)[0]
        del self._buffers[key]  # one request per connection
        try:
            argv = parse_request(line)
        except BadRequest as exc:
            self._refuse(key, str(exc))
            return
        log.info("Command from the socket: %s", argv[0] if argv else "show the window")
        if argv in ([], ["run"]):
            self._show()
            self._send(key, reply(out="SkyTwin Desktop is already running; its window is brought forward.\n"))
            self._send(key, reply(exit=0))
            self._finish(key)
            return
        threading.Thread(target=self._run, args=(key, argv), name="socket-command", daemon=True).start()

    def _run(self, key: int, argv: list[str]) -> None:
        def write(stream: str, text: str) -> None:
            self._write.emit(key, reply(**{stream: text}))

        try:
            code = self._serve(argv, write)
        except Exception as exc:  # the command's own last line of defence failed: still answer
            log.exception("A command from the socket failed")
            write("err", f"skytwin-desktop: unexpected error: {type(exc).__name__}\n")
            code = 1
        self._write.emit(key, reply(exit=code))
        self._close.emit(key)

    def _refuse(self, key: int, why: str) -> None:
        log.warning("Refused a request on the socket: %s", why)
        self._buffers.pop(key, None)
        self._send(key, reply(err=f"skytwin-desktop: {why}\n", exit=2))
        self._finish(key)

    def _send(self, key: int, data: bytes) -> None:
        connection = self._open.get(key)
        if connection is not None and connection.state() == QLocalSocket.LocalSocketState.ConnectedState:
            connection.write(data)

    def _finish(self, key: int) -> None:
        connection = self._open.get(key)
        if connection is not None:
            connection.disconnectFromServer()  # after what was written has gone out

    def _drop_idle(self, key: int) -> None:
        if key in self._buffers:  # still no whole request
            self._refuse(key, "no request arrived")

    def _forget(self, key: int) -> None:
        self._buffers.pop(key, None)
        connection = self._open.pop(key, None)
        if connection is not None:
            connection.deleteLater()
