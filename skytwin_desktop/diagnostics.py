"""What a bug report needs, gathered in one place: versions, paths, the keyring back-end, the desktop,
the notification server, the connectors and the last warnings and errors from the log.

Safe to paste anywhere: everything leaves through `to_text` or `to_json`, which scrub it with the log's
own redaction and show the home folder as `~`; the person's address, pause reason and sign-in links are
left out, and of the keyring only the back-end's name is read. No Qt here: facts that exist only in the
running GUI (its platform, tray) come in as `DesktopFacts`, filled by the composition root.
"""

from __future__ import annotations

import os
import platform
import re
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from skytwin_desktop import __version__, words
from skytwin_desktop.clock import iso_utc
from skytwin_desktop.domain import HealthStatus
from skytwin_desktop.errors import SkytwinError
from skytwin_desktop.instance import instance_paths
from skytwin_desktop.logs import LOG_FILE_NAME, REDACTED, redact
from skytwin_desktop.status import ConnectorState, StatusReport

if TYPE_CHECKING:
    from skytwin_desktop.intents import Intents

PROBE_SECONDS = 2.0
"""The notification server's whole answer, connection included, comes within this or not at all."""
RECENT_ERRORS = 20
_LIBRARIES = (("PySide6", ("PySide6", "PySide6-Essentials")), ("SQLAlchemy", ("SQLAlchemy",)),
              ("Alembic", ("alembic",)), ("APScheduler", ("APScheduler",)), ("google-auth", ("google-auth",)),
              ("google-auth-oauthlib", ("google-auth-oauthlib",)), ("keyring", ("keyring",)))
_OPTIONAL_LIBRARIES = ("jeepney", "SecretStorage", "keyrings.alt")
"""Shown only when installed: each changes which keyring or notification path is taken."""
_NOTIFICATIONS = "org.freedesktop.Notifications"
_BUS_ERRORS = {"org.freedesktop.DBus.Error.ServiceUnknown": "nothing on the bus provides it",
               "org.freedesktop.DBus.Error.NoReply": "it did not answer in time"}
_RECORD = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (?P<level>[A-Z]+) ")
_SERIOUS = frozenset({"WARNING", "ERROR", "CRITICAL"})
_TRACE_LINES = 6
"""A traceback keeps its first line and its last lines (where the exception is named)."""
_LINE_CHARS = 500
_LABEL = 22
"""The width of the text's label column."""
NOT_RUNNING = "not running: start the app to see tray support"


@dataclass(frozen=True)
class DesktopFacts:
    """What only the running GUI knows; read on the GUI thread at start by the composition root."""

    qt_platform: str
    qt_version: str
    tray_available: bool


@dataclass(frozen=True)
class NotificationServer:
    name: str
    vendor: str
    version: str
    spec_version: str
    capabilities: tuple[str, ...]


@dataclass(frozen=True)
class NotificationProbe:
    """The server, or in words why there is none ("no session bus (…)", "no notification service (…)")."""

    server: NotificationServer | None = None
    problem: str = ""


def probe_notifications(env: Mapping[str, str] | None = None, timeout: float = PROBE_SECONDS) -> NotificationProbe:
    """Ask the session bus's notification server who it is. Bounded from any thread: jeepney's
    Hello has no time-out of its own, so the asking runs aside and is given up on after `timeout`."""
    address = (os.environ if env is None else env).get("DBUS_SESSION_BUS_ADDRESS", "").strip()
    if not address:
        return NotificationProbe(problem="no session bus (DBUS_SESSION_BUS_ADDRESS is not set)")
    result: list[NotificationProbe] = []
    deadline = time.monotonic() + timeout * 0.9  # the asking's own time-outs say what was slow
    worker = threading.Thread(target=lambda: result.append(_ask_server(address, deadline)),
                              name="diagnostics-notifications", daemon=True)
    worker.start()
    worker.join(timeout)
    if result:
        return result[0]
    return NotificationProbe(problem=f"no session bus (no answer within {timeout:g} s)")


def _left(deadline: float) -> float:
    return max(0.01, deadline - time.monotonic())


def _ask_server(address: str, deadline: float) -> NotificationProbe:
    try:
        from jeepney import DBusAddress, DBusErrorResponse, new_method_call
        from jeepney.io.blocking import open_dbus_connection
        from jeepney.wrappers import unwrap_msg
    except ImportError:
        return NotificationProbe(problem="not asked (jeepney is not installed)")
    try:
        connection = open_dbus_connection(address, auth_timeout=_left(deadline))
    except Exception as exc:  # noqa: BLE001 - a missing socket, a refusal, an unsupported transport
        return NotificationProbe(problem=f"no session bus ({_reason(exc)})")
    target = DBusAddress("/org/freedesktop/Notifications", bus_name=_NOTIFICATIONS, interface=_NOTIFICATIONS)
    try:
        with connection:
            name, vendor, version, spec = unwrap_msg(connection.send_and_get_reply(
                new_method_call(target, "GetServerInformation"), timeout=_left(deadline)))
            (capabilities,) = unwrap_msg(connection.send_and_get_reply(
                new_method_call(target, "GetCapabilities"), timeout=_left(deadline)))
    except DBusErrorResponse as exc:
        why = _BUS_ERRORS.get(exc.name or "", exc.name)
        if (exc.name or "").startswith("org.freedesktop.DBus.Error.Spawn."):
            why = f"the bus could not start the one installed: {exc.name.rsplit('.', 1)[1]}"
        return NotificationProbe(problem=f"no notification service ({why})")
    except Exception as exc:  # noqa: BLE001 - a time-out, a reply of the wrong shape
        return NotificationProbe(problem=f"no notification service ({_reason(exc)})")
    return NotificationProbe(NotificationServer(str(name), str(vendor), str(version), str(spec),
                                                tuple(str(item) for item in capabilities)))


def _reason(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or (str(exc) if isinstance(exc, TimeoutError) else "")
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


@dataclass(frozen=True, repr=False)
class Diagnostics:
    """The raw facts; only `to_text` and `to_json` are for showing (they scrub)."""

    at: datetime
    home: str
    versions: dict[str, str]
    paths: dict[str, str]
    keyring: dict[str, str | None]
    desktop: DesktopFacts | None
    session: dict[str, str]
    notifications: NotificationProbe
    app: dict[str, Any]
    connectors: dict[str, dict[str, Any]]
    recent_errors: tuple[str, ...] = ()
    log_note: str = ""
    """Why no log lines could be read, when none could."""
    connector_words: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    """The connectors as a person reads them (label, words), for the text."""

    def to_json(self) -> dict[str, Any]:
        desktop: dict[str, Any] = {"from_running_app": self.desktop is not None, **self.session}
        if self.desktop is not None:
            desktop |= {"qt_platform": self.desktop.qt_platform, "qt_version": self.desktop.qt_version,
                        "tray_available": self.desktop.tray_available}
        else:
            desktop["note"] = NOT_RUNNING
        server = self.notifications.server
        notifications = {"available": server is not None, "problem": self.notifications.problem or None,
                         "server": None if server is None else {
                             "name": server.name, "vendor": server.vendor, "version": server.version,
                             "spec_version": server.spec_version, "capabilities": list(server.capabilities)}}
        data = {"generated_at": iso_utc(self.at), "versions": self.versions, "paths": self.paths,
                "keyring": self.keyring, "desktop": desktop, "notifications": notifications, "app": self.app,
                "connectors": self.connectors, "recent_errors": list(self.recent_errors),
                "log_note": self.log_note or None}
        cleaned: dict[str, Any] = _clean(data, self.home)
        return cleaned

    def to_text(self) -> str:
        sections: list[tuple[str, list[tuple[str, str]]]] = [
            ("Versions", list(self.versions.items())),
            ("Paths", [(label.replace("_", " "), value) for label, value in self.paths.items()]),
            ("Keyring", [("back-end", self.keyring["backend"] or f"none usable: {self.keyring['problem']}"),
                         ("chosen by", self.keyring["chosen_by"] or "-")]),
            ("Desktop", self._desktop_lines()),
            ("Notifications", self._notification_lines()),
            ("App", [(label.replace("_", " "), _word(value)) for label, value in self.app.items()]),
        ]
        lines = [f"SkyTwin Desktop diagnostics, {iso_utc(self.at)}"]
        for title, rows in sections:
            lines += ["", title, *(f"  {label:<{_LABEL}} {value}" for label, value in rows)]
        for title, rows in self.connector_words.items():
            lines += ["", f"Connector: {title}", *(f"  {label:<{_LABEL}} {value}" for label, value in rows)]
        lines += ["", "Recent warnings and errors (oldest first)"]
        lines += [f"  {line}" for entry in self.recent_errors for line in entry.splitlines()] or \
                 [f"  {self.log_note or 'none'}"]
        return scrub("\n".join(lines), self.home) + "\n"

    def _desktop_lines(self) -> list[tuple[str, str]]:
        rows = [(label.replace("_", " "), value) for label, value in self.session.items()]
        if self.desktop is None:
            return [*rows, ("Qt and system tray", NOT_RUNNING)]
        tray = "available" if self.desktop.tray_available else "not available (a window is shown instead)"
        return [*rows, ("Qt platform", self.desktop.qt_platform or "unknown"),
                ("Qt runtime", self.desktop.qt_version or "unknown"), ("system tray", tray)]

    def _notification_lines(self) -> list[tuple[str, str]]:
        server = self.notifications.server
        if server is None:
            return [("server", self.notifications.problem)]
        return [("server", server.name), ("vendor", server.vendor), ("version", server.version),
                ("spec version", server.spec_version), ("capabilities", ", ".join(server.capabilities) or "none")]


def collect(app: Intents, desktop: DesktopFacts | None = None, *, demo: bool = False, socket: Path | None = None,
            env: Mapping[str, str] | None = None, notifications: Callable[[], NotificationProbe] | None = None,
            log_path: Path | None = None, errors: int = RECENT_ERRORS) -> Diagnostics:
    """Gather everything; a part that cannot be read says why instead of ending the report. It asks
    the database, the keyring's chooser and the session bus (≤2 s): call it off the GUI thread."""
    env = os.environ if env is None else env
    home = env.get("HOME") or str(Path.home())
    paths = app.paths
    log_path = log_path or paths.log_dir / LOG_FILE_NAME
    socket = socket or instance_paths(paths.data_dir, demo=demo).socket
    config = app.context.config
    try:
        report: StatusReport | None = app.report()
        trouble = ""
    except Exception as exc:  # noqa: BLE001 - the report goes on without the store (a busy or gone database)
        report, trouble = None, f"could not be read: {exc if isinstance(exc, SkytwinError) else type(exc).__name__}"
    recent, note = recent_errors(log_path, errors)
    app_facts: dict[str, Any] = {
        "mode": "demo (the built-in Google sandbox)" if demo else "normal",
        "running": app.running,
        "database_schema": _schema(app),
        "poll_interval_seconds": config.poll_interval,
        "log_level": config.log_level,
        "google_api_root": config.google_api_root or "Google (the default)",
    }
    connectors: dict[str, dict[str, Any]] = {}
    texts: dict[str, list[tuple[str, str]]] = {}
    if report is None:
        app_facts["state"] = trouble
    else:
        app_facts |= {"auto_execute": _pause(report), "pending_approvals": report.pending_approvals,
                      "trust_tier": words.tier(report.trust_tier), "google_account": "set (address not shown)"
                      if report.email else "none connected yet"}
        shown = report.to_json()["connectors"]
        waiting = {wait.connector for wait in report.signing_in}
        for name, state in report.connectors.items():
            why = _why_not(report, state, signing_in=name in waiting)
            connectors[name.value] = {**shown.get(name.value, {}), "why_not": why or None}
            texts[name.display_name] = _connector_words(report, state, why)
    return Diagnostics(
        at=app.context.clock(), home=home, versions=versions(), app=app_facts, connectors=connectors,
        paths={"data_folder": str(paths.data_dir), "database": str(paths.database), "log_folder": str(paths.log_dir),
               "log_file": str(log_path), "runtime_socket": str(socket), "python": sys.executable or "unknown"},
        keyring=keyring_backend(app, env), desktop=desktop, session=_session(env),
        notifications=(notifications or (lambda: probe_notifications(env)))(),
        recent_errors=recent, log_note=note, connector_words=texts,
    )


def versions() -> dict[str, str]:
    """From the installed packages' metadata: nothing heavy is imported to learn them."""
    try:
        release = platform.freedesktop_os_release().get("PRETTY_NAME", "")
    except OSError:
        release = ""
    found = {"SkyTwin Desktop": __version__,
             "Python": f"{platform.python_version()} ({platform.python_implementation()})",
             # Not platform.platform(): it asks `uname -p`, a process, for a word it then leaves out.
             "OS": f"{platform.system()} {platform.release()} {platform.machine()}"
                   + (f" ({release})" if release else "")}
    for label, names in _LIBRARIES:
        found[label] = next(filter(None, map(_installed, names)), "not installed")
    for name in _OPTIONAL_LIBRARIES:
        if version := _installed(name):
            found[name] = version
    return found


def _installed(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return ""


def keyring_backend(app: Intents, env: Mapping[str, str]) -> dict[str, str | None]:
    """The back-end the app's token store uses, by class name only; a value is never read."""
    try:
        backend = app.keyring_backend
    except Exception as exc:  # noqa: BLE001 - our own errors in words; a back-end's only by type
        problem = str(exc) if isinstance(exc, SkytwinError) else type(exc).__name__
        return {"backend": None, "problem": problem, "chosen_by": None}
    kind = type(backend)
    if kind.__module__ == "skytwin_desktop.demo":
        chosen = "the demo (kept in memory, gone when it quits)"
    elif env.get("PYTHON_KEYRING_BACKEND"):
        chosen = "PYTHON_KEYRING_BACKEND"
    else:
        chosen = "keyring (its config file, else the best back-end installed)"
    return {"backend": f"{kind.__module__}.{kind.__qualname__}", "problem": None, "chosen_by": chosen}


def recent_errors(log_path: Path, limit: int = RECENT_ERRORS) -> tuple[tuple[str, ...], str]:
    """The last `limit` WARNING/ERROR records, oldest first, from the log and its rotated copies
    (newest first on disk: skytwin.log, .1, .2 …), and why none could be read if so."""
    files = [log_path, *sorted(log_path.parent.glob(f"{log_path.name}.[0-9]*"), key=_rotation)]
    found: list[str] = []
    note = ""
    for path in files:
        try:
            text = path.read_text(encoding="utf-8", errors="backslashreplace")
        except FileNotFoundError:
            continue
        except OSError as exc:
            note = f"the log {path.name} could not be read ({_reason(exc)})"
            continue
        found = [*_serious_records(text), *found]
        if len(found) >= limit:
            break
    if not found and not note and not log_path.exists():
        note = "no log file yet"
    return tuple(found[-limit:] if limit > 0 else []), note


def _rotation(path: Path) -> int:
    suffix = path.suffix.lstrip(".")
    return int(suffix) if suffix.isdigit() else 0


def _serious_records(text: str) -> list[str]:
    records: list[list[str]] = []
    keep = False
    for line in text.splitlines():
        match = _RECORD.match(line)
        if match:
            keep = match["level"] in _SERIOUS
            if keep:
                records.append([line])
        elif keep and records and line.strip():
            records[-1].append(line)
    return [_trimmed(lines) for lines in records]


def _trimmed(lines: list[str]) -> str:
    if len(lines) > _TRACE_LINES + 1:
        lines = [lines[0], "  …", *lines[-_TRACE_LINES:]]
    return "\n".join(line if len(line) <= _LINE_CHARS else line[:_LINE_CHARS] + "…" for line in lines)


def _why_not(report: StatusReport, state: ConnectorState, *, signing_in: bool) -> str:
    """Why this service is not being read right now, or "" when it is."""
    if signing_in:
        return "signing in (waiting for the person in the browser)"
    if state.status is HealthStatus.DISABLED:
        return "not connected"
    if state.status is HealthStatus.NEEDS_REAUTH:
        cause = words.failure(state.error_code)
        return "needs reconnecting" + (f": {cause}" if cause else "")
    if not report.running:
        return "the app is not running"
    if state.problem is not None:
        since = f" {words.since(state.failing_since, report.now)}" if state.failing_since else ""
        retry = f", trying again {words.when(state.retry_at, report.now)}" if state.retry_at else ""
        return f"{state.problem_text or words.read_problem(state.problem)}{since}{retry}"
    return ""


def _connector_words(report: StatusReport, state: ConnectorState, why: str) -> list[tuple[str, str]]:
    now = report.now
    rows = [("state", words.status(state.status)), ("reading", f"no: {why}" if why else "yes"),
            ("last read", _moment(state.last_success_at, now)), ("last failure", _moment(state.last_failure_at, now))]
    if state.error_code:
        rows.append(("error", f"{state.error_code} ({words.failure(state.error_code)})"))
    if state.problem is not None:
        rows.append(("read problem", state.problem.value))
    return [*rows, ("set aside", str(state.set_aside))]


def _moment(moment: datetime | None, now: datetime) -> str:
    return "never" if moment is None else f"{words.when(moment, now)} ({iso_utc(moment)})"


def _pause(report: StatusReport) -> str:
    """The pause in words, without the person's own reason (free text that does not belong in a report)."""
    parts = ["paused by the administrator"] if report.operator_paused else []
    if report.user_paused:
        parts.append("paused by the person" + (f" since {iso_utc(report.paused_at)}" if report.paused_at else ""))
    return "; ".join(parts) or "on"


def _schema(app: Intents) -> str:
    try:
        return str(app.migration().to_revision or "none")
    except Exception as exc:  # noqa: BLE001 - a report part, never the report's end
        return f"unknown ({type(exc).__name__})"


def _session(env: Mapping[str, str]) -> dict[str, str]:
    """The desktop session as the environment describes it (what decides tray and notification paths)."""
    return {"session_type": env.get("XDG_SESSION_TYPE") or "unknown",
            "current_desktop": env.get("XDG_CURRENT_DESKTOP") or "unknown",
            "display": ", ".join(f"{name}={env[name]}" for name in ("WAYLAND_DISPLAY", "DISPLAY") if env.get(name))
            or "none"}


def _word(value: Any) -> str:
    return {True: "yes", False: "no"}.get(value, str(value)) if isinstance(value, bool) else str(value)


def scrub(text: str, home: str) -> str:
    """Redacted, and the home folder as ~. Redaction is applied between the markers already in the
    text, so a line the log scrubbed once does not come out as "[REDACTED]]"."""
    text = REDACTED.join(redact(part) for part in text.split(REDACTED))
    home = home.rstrip("/\\")
    if len(home) > 1:
        text = re.sub(re.escape(home) + r"(?![^/\\\s'\",;:)\]}])", "~", text)
    return text


def _clean(value: Any, home: str) -> Any:
    if isinstance(value, str):
        return scrub(value, home)
    if isinstance(value, dict):
        return {key: _clean(item, home) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(item, home) for item in value]
    return value
