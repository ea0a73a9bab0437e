"""The `skytwin-desktop` command: starts the tray app, or runs one command and exits.

When the app is already running for this data folder, a command is carried out by that app and
answered over its local socket (same words, JSON and exit codes); a bare second launch brings its
window forward. With none running, the command works on the store itself.

Every failure the person can cause or fix ends in one line on stderr and a non-zero exit code;
unexpected ones are logged in full (redacted) and summarised in one line.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, NoReturn

from skytwin_desktop import __version__, words
from skytwin_desktop.clock import utc_now
from skytwin_desktop.config import Config
from skytwin_desktop.display import display_problem
from skytwin_desktop.domain import (
    COMMAND_NAME,
    PAUSE_REASON_MAX,
    ApprovalStatus,
    Confirmation,
    Connector,
    TrustTier,
    Urgency,
)
from skytwin_desktop.errors import SkytwinError
from skytwin_desktop.instance import (
    InstanceLock,
    InstancePaths,
    NoAnswer,
    ask,
    instance_paths,
    wait_for,
)
from skytwin_desktop.outcomes import PollOutcome
from skytwin_desktop.status import StatusReport, format_report, pause_line
from skytwin_desktop.text import printable

if TYPE_CHECKING:
    from skytwin_desktop.intents import Intents

PROG = COMMAND_NAME
MAX_ID = 2**63 - 1
"""The largest id SQLite stores."""
log = logging.getLogger(__name__)


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line rather than a usage block."""

    def error(self, message: str) -> NoReturn:
        message = message.replace("argument COMMAND: invalid choice:", "unknown command")
        self.exit(2, f"{self.prog}: {message} (see '{PROG} --help')\n")


class _Done(Exception):
    """argparse wanted to exit (a usage mistake) while serving a request from the socket."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class Output:
    """Where a command's words go: the terminal, or the socket of the client that asked."""

    def __init__(self, write: Callable[[str, str], None]) -> None:
        self.write = write
        """write("out" | "err", text): text as it is, newline included."""

    @classmethod
    def terminal(cls) -> Output:
        """Control characters are shown, not obeyed: mail subjects and senders reach the terminal
        in human-readable output (JSON escapes them itself), from this process or the running app."""

        def write(stream: str, text: str) -> None:
            target = sys.stdout if stream == "out" else sys.stderr
            if target is None:  # a windowed start (pythonw, the Windows build): no terminal to write to
                return
            target.write(printable(text))
            target.flush()

        return cls(write)

    def print(self, text: str = "") -> None:
        self.write("out", f"{text}\n")

    def error(self, text: str) -> None:
        self.write("err", f"{text}\n")


def build_parser(parser_class: type[_Parser] = _Parser) -> argparse.ArgumentParser:
    parser = parser_class(
        prog=PROG,
        description="SkyTwin Desktop: your delegated-action assistant in the system tray. "
        "With no command, starts the tray app.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    parser.add_argument("--demo", action="store_true",
                        help="run against the built-in Google sandbox (no Google account needed; "
                             "throwaway data unless SKYTWIN_DATA_DIR is set)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=parser_class)
    commands.add_parser("run", help="start the tray app (the default)")
    status = commands.add_parser("status", help="show the twin's state: pause, connectors, approvals")
    status.add_argument("--json", action="store_true", help="print machine-readable JSON")
    pause = commands.add_parser("pause", help="stop all auto-execution; actions wait in Approvals")
    pause.add_argument("--reason", metavar="TEXT", help=f"why (at most {PAUSE_REASON_MAX} characters)")
    commands.add_parser("resume", help="let actions your settings allow run by themselves again")
    commands.add_parser("migrate", help="bring the database to this version's schema (also done at start)")
    connect = commands.add_parser("connect", help="sign in to Google for a connector (opens your browser)")
    connect.add_argument("connector", choices=[c.value for c in Connector])
    disconnect = commands.add_parser("disconnect", help="forget a connector's Google sign-in (revoking it at Google)")
    disconnect.add_argument("connector", choices=[c.value for c in Connector])
    commands.add_parser("poll-once", help="poll every connected connector once and act on what came in, then exit "
                                          "(0: every poll succeeded)")
    approvals = commands.add_parser("approvals", help="list, approve or reject what waits for you")
    verbs = approvals.add_subparsers(dest="verb", metavar="VERB", parser_class=parser_class, required=True)
    listing = verbs.add_parser("list", help="what waits for you (soonest to expire first)")
    listing.add_argument("--json", action="store_true", help="print machine-readable JSON")
    listing.add_argument("--all", action="store_true", help="also the answered and expired ones, newest first")
    approve = verbs.add_parser("approve", help="let the twin carry out an action (it runs now)")
    approve.add_argument("id", type=_positive_id, metavar="ID")
    reject = verbs.add_parser("reject", help="turn an action down (it counts toward the trust tier)")
    reject.add_argument("id", type=_positive_id, metavar="ID")
    reject.add_argument("--note", metavar="TEXT", help="why not (optional, kept with the answer)")
    activity = commands.add_parser("activity", help="what the twin decided and did, and why (newest first)")
    activity.add_argument("--json", action="store_true", help="print machine-readable JSON")
    activity.add_argument("--limit", type=_positive_id, default=50, metavar="N", help="how many (default 50)")
    tier = commands.add_parser("tier", help="show the trust tier, or set it as your own choice")
    tier.add_argument("name", nargs="?", metavar="NAME",
                      help="one of: " + ", ".join(t.value for t in TrustTier) + " (or its label in quotes)")
    diagnose = commands.add_parser("diagnose", help="versions, paths, keyring, tray and notification support, "
                                                    "connector states and recent errors, for a bug report")
    diagnose.add_argument("--json", action="store_true", help="print machine-readable JSON")
    entry = commands.add_parser("install-desktop-entry",
                                help="add SkyTwin to your app menu (Linux/BSD): a launcher for this installation "
                                     "and its icon")
    entry.add_argument("--remove", action="store_true", help="take the launcher and icon away again")
    undo = commands.add_parser("undo", help="reverse an action the twin carried out (its action id in 'activity')")
    undo.add_argument("id", type=_positive_id, metavar="ID")
    return parser


def _positive_id(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 1 <= value <= MAX_ID:
        raise argparse.ArgumentTypeError(f"{text!r} must be from 1 to {MAX_ID}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):  # a path with undecodable bytes must not crash a print
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    out = Output.terminal()
    command = args.command or "run"
    app: Intents | None = None
    try:
        if command == "install-desktop-entry":  # the person's own menu: no store, no running app needed
            return _desktop_entry(args, out)
        config = Config.from_env()
        place = instance_paths(config.data_dir, demo=args.demo)
        answered = _ask_running(place, _forwarded(argv), out)
        if answered is not None:
            return answered
        if command == "run":
            problem = display_problem(os.environ)
            if problem:
                raise SkytwinError(f"{problem} The tray cannot start; '{PROG} status' works in a terminal.")
            return _start_tray(config, args, place, out)
        if command == "status" and not args.demo and _status_at_a_glance(config, args, out):
            return 0
        from skytwin_desktop.composition import (
            open_app,  # the store and Google code load only now
        )

        app = open_app(config, demo=args.demo)
        return _COMMANDS[command](app, args, out)
    except SkytwinError as exc:
        return _failed(exc, out)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - the last line of defence against a traceback
        return _unexpected(exc, app, out)
    finally:
        if app is not None:
            app.close()


def serve(app: Intents, argv: list[str], write: Callable[[str, str], None]) -> int:
    """A command line from the socket, carried out by this running app exactly as the terminal
    would carry it out on the store."""
    out = Output(write)

    class Serving(_Parser):
        def _print_message(self, message: str, file: object = None) -> None:
            if message:
                write("out" if file is sys.stdout else "err", message)

        def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
            if message:
                write("err", message)
            raise _Done(status)

    try:
        args = build_parser(Serving).parse_args(argv)
        command = args.command or "run"
        if command in ("run", "install-desktop-entry") or args.demo:
            out.error(f"{PROG}: only commands are taken over the socket")
            return 2
        return _COMMANDS[command](app, args, out)
    except _Done as done:
        return done.code
    except SkytwinError as exc:
        return _failed(exc, out)
    except Exception as exc:  # noqa: BLE001 - answered in one line; the app goes on
        return _unexpected(exc, app, out)


def _failed(exc: SkytwinError, out: Output) -> int:
    log.error("%s", exc)
    out.error(f"{PROG}: {exc}")
    return exc.exit_code


def _unexpected(exc: Exception, app: Intents | None, out: Output) -> int:
    log.exception("Unexpected failure")
    where = f"; details in {app.paths.log_dir}" if app else ""
    out.error(f"{PROG}: unexpected error: {type(exc).__name__}{where}")
    return 1


def _forwarded(argv: list[str]) -> list[str]:
    """The command line for the running app: without `--demo`, which chose which app to ask."""
    first = next((index for index, word in enumerate(argv) if not word.startswith("-")), len(argv))
    return [word for index, word in enumerate(argv) if index >= first or word != "--demo"]


def _ask_running(place: InstancePaths, argv: list[str], out: Output) -> int | None:
    """The running app's answer (its exit code), or None when no app runs for this data folder."""
    answers = ask(place.socket, argv)
    if answers is None:
        return None
    try:
        for message in answers:
            for stream in ("out", "err"):
                if isinstance(message.get(stream), str):
                    out.write(stream, message[stream])
            if "exit" in message:
                return int(message["exit"])
    except NoAnswer as exc:
        out.error(f"{PROG}: {exc}; see its log for what happened")
        return 1
    out.error(f"{PROG}: the running SkyTwin ended its answer without an exit code")
    return 1


def _start_tray(config: Config, args: argparse.Namespace, place: InstancePaths, out: Output) -> int:
    """Own the data folder (lock and socket) and run the tray; a second launch finds it taken."""
    from skytwin_desktop.boot import start_tray  # Qt and the icon first; the rest loads behind it

    try:
        lock = InstanceLock.acquire(place.lock)
    except OSError as exc:
        raise SkytwinError(f"Cannot use the runtime folder {place.lock.parent}: {exc}") from None
    if lock is None:  # another app is starting for this folder right now
        if wait_for(place.socket, 1.0):
            return _ask_running(place, [], out) or 0
        out.print("SkyTwin Desktop is already running for this data folder.")
        return 0
    try:
        return start_tray(config, place, lock, demo=args.demo,
                          serve=lambda app: lambda argv, write: serve(app, argv, write))
    finally:
        lock.release()


def _status(app: Intents, args: argparse.Namespace, out: Output) -> int:
    _print_status(app.report(), args, out)
    return 0


def _print_status(report: StatusReport, args: argparse.Namespace, out: Output) -> None:
    out.print(json.dumps(report.to_json(), indent=2) if args.json else format_report(report))


def _status_at_a_glance(config: Config, args: argparse.Namespace, out: Output) -> bool:
    """`status` of a store no app runs on, read with `sqlite3` alone (no SQLAlchemy, no
    migration, no logging set-up); False when only the full opening can answer."""
    from skytwin_desktop.glance import status_without_app

    report = status_without_app(config)
    if report is None:
        return False
    _print_status(report, args, out)
    return True


def _pause(app: Intents, args: argparse.Namespace, out: Output) -> int:
    app.set_pause(True, args.reason)
    return _print_pause(app, out)


def _resume(app: Intents, _args: argparse.Namespace, out: Output) -> int:
    app.set_pause(False, None)
    return _print_pause(app, out)


def _print_pause(app: Intents, out: Output) -> int:
    out.print(f"Auto-execution: {pause_line(app.report())}")
    return 0


def _migrate(app: Intents, _args: argparse.Namespace, out: Output) -> int:
    result = app.migration()
    if not result.changed:
        out.print(f"Database {result.database} is at schema {result.to_revision}; nothing to do.")
    else:
        out.print(f"Database {result.database} migrated from {result.from_revision or 'empty'} "
                  f"to {result.to_revision}.")
        if result.backup:
            out.print(f"A copy from before the migration is at {result.backup}.")
    return 0


def _connect(app: Intents, args: argparse.Namespace, out: Output) -> int:
    report = app.connect(Connector(args.connector), tell=out.print)
    title = Connector(args.connector).display_name
    out.print(f"{title} connected." if report.succeeded
              else f"{title} connected, but the first poll failed: {report.detail}")
    return 0 if report.succeeded else 1


def _disconnect(app: Intents, args: argparse.Namespace, out: Output) -> int:
    out.print(app.disconnect(Connector(args.connector)))
    return 0


def _poll_once(app: Intents, _args: argparse.Namespace, out: Output) -> int:
    reports, batch = app.poll_once()
    ok = True
    for report in reports:
        title = report.connector.display_name
        if report.outcome is PollOutcome.NOT_CONNECTED:
            out.print(f"{title}: not connected")
            continue
        ok = ok and report.succeeded
        if report.succeeded:
            out.print(f"{title}: read, {report.signals} new item(s)")
        else:
            why = words.failure(report.error_code)
            out.print(f"{title}: {words.outcome(report.outcome)}" + (f" ({why})" if why else "")
                      + (f" - {report.detail}" if report.detail and not why else ""))
    if batch.signals or batch.resolved:
        out.print(f"Twin: {batch.signals} item(s) judged, {batch.executed} done, {batch.queued} waiting for your "
                  f"approval, {batch.denied} refused, {batch.failed} failed")
    return 0 if ok else 1


def _approvals(app: Intents, args: argparse.Namespace, out: Output) -> int:
    if args.verb in ("approve", "reject"):
        answer = app.approve(args.id) if args.verb == "approve" else app.reject(args.id, args.note)
        out.print(f"#{args.id}: {answer}")
        if answer.action_id is not None:  # undo takes the action's number, not the approval's
            out.print(f"To reverse it: {PROG} undo {answer.action_id}")
        return 0 if answer.ok else 1
    items = app.approvals(include_answered=args.all)
    if args.json:
        out.print(json.dumps([item.to_json() for item in items], indent=2))
    elif not items:
        out.print("Nothing waits for you." if not args.all else "No approvals yet.")
    now = utc_now()
    for item in [] if args.json else items:
        status = "" if item.status == ApprovalStatus.PENDING else f" [{words.approval_status(item.status)}]"
        extra = "".join((", urgent" if item.urgency == Urgency.IMMEDIATE else "",
                         ", needs two confirmations" if item.confirmation == Confirmation.DUAL else ""))
        out.print(f"#{item.id}{status} {words.kind(item.kind)}: {item.target}\n"
                  f"    why it waits: {item.reason} (decided by {words.check(item.decided_by)})\n"
                  f"    answer by {words.when(item.expires_at, now)}{extra}")
    return 0


def _activity(app: Intents, args: argparse.Namespace, out: Output) -> int:
    items = app.activity(limit=args.limit)
    if args.json:
        out.print(json.dumps([item.to_json() for item in items], indent=2))
        return 0
    if not items:
        out.print("Your twin has not decided anything yet.")
    now = utc_now()
    for item in items:
        action = f" (action #{item.action_id}{', undo with: undo ' + str(item.action_id) if item.undoable else ''})" \
            if item.action_id else ""
        out.print(f"{words.when(item.at, now)} · {words.kind(item.kind)}: {item.target}\n    {item.outcome}{action}\n"
                  f"    why: {item.why} (decided by {words.check(item.decided_by)})")
    return 0


def _tier(app: Intents, args: argparse.Namespace, out: Output) -> int:
    if args.name is None:
        tier = app.tier()
        out.print(f"Trust tier: {tier.label}")
        return 0
    out.print(app.set_tier(args.name))
    return 0


def _undo(app: Intents, args: argparse.Namespace, out: Output) -> int:
    answer = app.undo(args.id)
    out.print(f"Action #{args.id}: {answer}")
    return 0 if answer.ok else 1


def _desktop_entry(args: argparse.Namespace, out: Output) -> int:
    from skytwin_desktop.desktop_entry import install_desktop_entry, remove_desktop_entry

    if args.remove:
        removed = remove_desktop_entry()
        out.print("Removed:\n" + "\n".join(f"  {path}" for path in removed) if removed
                  else "There was no SkyTwin launcher to remove.")
        return 0
    written = install_desktop_entry()
    out.print("SkyTwin Desktop is in your app menu now. Written:\n" + "\n".join(f"  {path}" for path in written))
    return 0


def _diagnose(app: Intents, args: argparse.Namespace, out: Output) -> int:
    from skytwin_desktop.diagnostics import collect

    report = collect(app, app.desktop, demo=app.demo)
    out.print(json.dumps(report.to_json(), indent=2) if args.json else report.to_text().rstrip("\n"))
    return 0


_COMMANDS: dict[str, Callable[[Intents, argparse.Namespace, Output], int]] = {
    "diagnose": _diagnose,
    "status": _status,
    "pause": _pause,
    "resume": _resume,
    "migrate": _migrate,
    "connect": _connect,
    "disconnect": _disconnect,
    "poll-once": _poll_once,
    "approvals": _approvals,
    "activity": _activity,
    "tier": _tier,
    "undo": _undo,
}
