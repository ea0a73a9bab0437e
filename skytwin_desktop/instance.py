"""One running app per data folder, and the small protocol the CLI uses to talk to it.

The first `skytwin-desktop` to start the tray takes an exclusive lock (released by the kernel when
the process ends, however it ends) and listens on a local socket; both live in the user's runtime
folder, named after the data folder they own (and `--demo` apart). Every later command asks that
socket first: when the app runs, it does the work and answers; when nothing answers, the command
works on the store itself.

The protocol, version 1: the client sends one line of UTF-8 JSON, at most 64 KiB,
`{"v": 1, "argv": ["status", "--json"]}` (the command line after the program name; `[]` means
"show yourself"). The app answers with lines of JSON, each one of `{"v": 1, "out": text}`,
`{"v": 1, "err": text}`, and finally `{"v": 1, "exit": code}`. A request it cannot take gets
`{"v": 1, "err": "…", "exit": 2}` and the connection is closed; the app keeps running.

Only the standard library here: a command that finds the app running pays for nothing else.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROTOCOL_VERSION = 1
MAX_REQUEST = 64 * 1024
"""Bytes: a longer request is refused (the longest real command line is far shorter)."""
MAX_SOCKET_PATH = 100
"""Unix socket paths must stay under 108 bytes; longer runtime folders fall back to the temp folder."""
LONG_COMMANDS = {"connect": 900.0, "poll-once": 900.0, "approvals": 300.0, "undo": 300.0}
"""Seconds to wait for the next line of an answer (a sign-in waits for the person)."""
DEFAULT_WAIT = 60.0


@dataclass(frozen=True)
class InstancePaths:
    lock: Path
    socket: Path


def _temp_folder() -> Path:
    uid = os.getuid() if hasattr(os, "getuid") else 0
    return Path(tempfile.gettempdir()) / f"skytwin-desktop-{uid}"


def runtime_folder() -> Path:
    """The user's runtime folder (XDG_RUNTIME_DIR), else a private one in the temp folder."""
    base = os.environ.get("XDG_RUNTIME_DIR", "")
    if base and Path(base).is_dir():
        return Path(base) / "skytwin-desktop"
    return _temp_folder()


def instance_paths(data_dir: Path, *, demo: bool) -> InstancePaths:
    """Where the app that owns `data_dir` (or the demo app started from it) keeps its lock and socket."""
    try:
        owned = str(data_dir.resolve())
    except OSError:
        owned = str(data_dir.absolute())
    key = hashlib.sha256(f"{'demo' if demo else 'data'}:{owned}".encode("utf-8", "surrogateescape")).hexdigest()[:16]
    folder = runtime_folder()
    if len(str(folder / f"{key}.sock").encode()) > MAX_SOCKET_PATH:
        folder = _temp_folder()
    return InstancePaths(folder / f"{key}.lock", folder / f"{key}.sock")


def private_folder(folder: Path) -> Path:
    """Create the folder owner-only; refuse one that someone else owns or others can write."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if hasattr(os, "getuid"):
        found = folder.stat()
        if found.st_uid != os.getuid() or found.st_mode & 0o022:
            raise PermissionError(f"{folder} is not private to you")
    return folder


class InstanceLock:
    """An exclusive lock on a file, held until `release` or until the process ends (even by SIGKILL)."""

    def __init__(self, handle: Any) -> None:
        self._handle = handle

    @classmethod
    def acquire(cls, path: Path) -> InstanceLock | None:
        """The lock, or None when another running app holds it."""
        private_folder(path.parent)
        handle = open(path, "a+")  # noqa: SIM115 - held open for the life of the app
        try:
            if sys.platform == "win32":
                import msvcrt

                msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
            else:
                import fcntl

                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        return cls(handle)

    def release(self) -> None:
        if not self._handle.closed:
            self._handle.close()


# --- the protocol ---------------------------------------------------------------------------------
def request(argv: list[str]) -> bytes:
    return json.dumps({"v": PROTOCOL_VERSION, "argv": list(argv)}).encode() + b"\n"


class BadRequest(ValueError):
    """A request the app cannot take; its text is the answer."""


def parse_request(line: bytes) -> list[str]:
    """The command line of a request, or BadRequest saying what is wrong with it."""
    if len(line) > MAX_REQUEST:
        raise BadRequest(f"the request is longer than {MAX_REQUEST} bytes")
    try:
        data = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise BadRequest("the request is not a line of JSON") from None
    if not isinstance(data, dict):
        raise BadRequest("the request is not a JSON object")
    if data.get("v") != PROTOCOL_VERSION:
        raise BadRequest(f"unsupported protocol version {data.get('v')!r}; this SkyTwin speaks {PROTOCOL_VERSION}")
    argv = data.get("argv")
    if not isinstance(argv, list) or not all(isinstance(item, str) for item in argv):
        raise BadRequest("'argv' must be a list of strings")
    return argv


def reply(**fields: Any) -> bytes:
    return json.dumps({"v": PROTOCOL_VERSION, **fields}).encode() + b"\n"


# --- the client -----------------------------------------------------------------------------------
class NoAnswer(Exception):
    """The running app took the request but stopped answering."""


def connect(path: Path, timeout: float = 1.0) -> socket.socket | None:
    """A connection to the running app, or None when no app listens there."""
    if not hasattr(socket, "AF_UNIX"):
        return None
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    client.settimeout(timeout)
    try:
        client.connect(str(path))
    except OSError:
        client.close()
        return None
    return client


def ask(path: Path, argv: list[str], wait: float | None = None) -> Iterator[dict[str, Any]] | None:
    """Send the command to the running app; None when none runs. The answer's messages are
    yielded as they come; NoAnswer when it stops answering mid-way."""
    client = connect(path)
    if client is None:
        return None
    return _answers(client, argv, wait or LONG_COMMANDS.get(argv[0] if argv else "", DEFAULT_WAIT))


def _answers(client: socket.socket, argv: list[str], wait: float) -> Iterator[dict[str, Any]]:
    with client:
        try:
            client.sendall(request(argv))
            client.settimeout(wait)
            pending = b""
            while True:
                chunk = client.recv(65536)
                if not chunk:
                    raise NoAnswer("the running SkyTwin closed the connection before it finished")
                pending += chunk
                while b"\n" in pending:
                    line, pending = pending.split(b"\n", 1)
                    message = json.loads(line)
                    yield message
                    if "exit" in message:
                        return
        except (OSError, ValueError) as exc:
            raise NoAnswer(f"the running SkyTwin stopped answering ({type(exc).__name__})") from None


def wait_for(path: Path, seconds: float) -> bool:
    """Whether an app answers at `path` within `seconds` (a bounded wait, for a start-up race)."""
    deadline = time.monotonic() + seconds
    while True:
        client = connect(path, 0.2)
        if client is not None:
            client.close()
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
