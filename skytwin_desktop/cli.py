"""The `skytwin-desktop` command: starts the tray app, or runs one command and exits.

Every failure the person can cause or fix ends in one line on stderr and a non-zero exit code;
unexpected ones are logged in full (redacted) and summarised in one line.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import NoReturn

from skytwin_desktop import __version__
from skytwin_desktop.composition import AppContext, build_context
from skytwin_desktop.config import Config
from skytwin_desktop.connectors.service import Outcome
from skytwin_desktop.demo import Demo
from skytwin_desktop.domain import PAUSE_REASON_MAX, Connector, TrustTier
from skytwin_desktop.errors import SkytwinError
from skytwin_desktop.intents import Intents
from skytwin_desktop.status import StatusReport, format_report, pause_line
from skytwin_desktop.store.types import iso_utc

PROG = "skytwin-desktop"
MAX_ID = 2**63 - 1
"""The largest id SQLite stores."""
log = logging.getLogger(__name__)


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line rather than a usage block."""

    def error(self, message: str) -> NoReturn:
        message = message.replace("argument COMMAND: invalid choice:", "unknown command")
        self.exit(2, f"{self.prog}: {message} (see '{PROG} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="SkyTwin Desktop: your delegated-action assistant in the system tray. "
        "With no command, starts the tray app.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    parser.add_argument("--demo", action="store_true",
                        help="run against the built-in Google sandbox (no Google account needed; "
                             "throwaway data unless SKYTWIN_DATA_DIR is set)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
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
    verbs = approvals.add_subparsers(dest="verb", metavar="VERB", parser_class=_Parser, required=True)
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
    args = build_parser().parse_args(argv)
    context: AppContext | None = None
    demo: Demo | None = None
    try:
        config = Config.from_env()
        keyring_backend = None
        if args.demo:
            demo = Demo(config)
            config, keyring_backend = demo.config, demo.keyring
        context = build_context(config, keyring_backend=keyring_backend)
        if demo is not None and args.command in (None, "run"):
            _connect_demo(context)
        return _COMMANDS[args.command or "run"](context, args)
    except SkytwinError as exc:
        log.error("%s", exc)
        print(f"{PROG}: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - the last line of defence against a traceback
        log.exception("Unexpected failure")
        where = f"; details in {context.log_path}" if context else ""
        print(f"{PROG}: unexpected error: {type(exc).__name__}{where}", file=sys.stderr)
        return 1
    finally:
        if context is not None:
            context.close()
        if demo is not None:
            demo.close()


def _run(context: AppContext, _args: argparse.Namespace) -> int:
    if not has_display(os.environ):
        raise SkytwinError(
            "No graphical session found (DISPLAY and WAYLAND_DISPLAY are unset), so the tray cannot start; "
            f"'{PROG} status' works in a terminal."
        )
    from skytwin_desktop.ui.tray import (
        run_tray,  # Qt is loaded only when a window is wanted
    )

    return run_tray(context)


def _report(context: AppContext) -> StatusReport:
    return Intents(context).report()


def _status(context: AppContext, args: argparse.Namespace) -> int:
    report = _report(context)
    print(json.dumps(report.to_json(), indent=2) if args.json else format_report(report))
    return 0


def _pause(context: AppContext, args: argparse.Namespace) -> int:
    Intents(context).set_pause(True, args.reason)
    return _print_pause(context)


def _resume(context: AppContext, _args: argparse.Namespace) -> int:
    Intents(context).set_pause(False, None)
    return _print_pause(context)


def _print_pause(context: AppContext) -> int:
    print(f"Auto-execution: {pause_line(_report(context))}")
    return 0


def _migrate(context: AppContext, _args: argparse.Namespace) -> int:
    result = context.migration
    if not result.changed:
        print(f"Database {context.config.database_path} is at schema {result.to_revision}; nothing to do.")
    else:
        print(f"Database {context.config.database_path} migrated from {result.from_revision or 'empty'} "
              f"to {result.to_revision}.")
        if result.backup:
            print(f"A copy from before the migration is at {result.backup}.")
    return 0


def _connect(context: AppContext, args: argparse.Namespace) -> int:
    report = context.connectors.connect(Connector(args.connector))
    title = Connector(args.connector).title
    print(f"{title} connected." if report.succeeded else f"{title} connected, but the first poll failed: {report.detail}")
    return 0 if report.succeeded else 1


def _connect_demo(context: AppContext) -> None:
    for connector in Connector:
        context.connectors.connect(connector)


def _disconnect(context: AppContext, args: argparse.Namespace) -> int:
    print(context.connectors.disconnect(Connector(args.connector)))
    return 0


def _poll_once(context: AppContext, _args: argparse.Namespace) -> int:
    reports = context.connectors.poll_all()
    batch = context.twin.process_inbox()
    ok = True
    for report in reports:
        if report.outcome is Outcome.NOT_CONNECTED:
            print(f"{report.connector.value}: not connected")
            continue
        ok = ok and report.succeeded
        if report.succeeded:
            print(f"{report.connector.value}: ok, {report.signals} new signal(s)")
        else:
            print(f"{report.connector.value}: {report.outcome.value}"
                  + (f" ({report.error_code})" if report.error_code else "")
                  + (f" - {report.detail}" if report.detail else ""))
    if batch.signals or batch.resolved:
        print(f"twin: {batch.signals} signal(s), {batch.executed} done, {batch.queued} waiting for your approval, "
              f"{batch.denied} refused, {batch.failed} failed")
    return 0 if ok else 1


def _approvals(context: AppContext, args: argparse.Namespace) -> int:
    intents = Intents(context)
    if args.verb in ("approve", "reject"):
        answer = intents.approve(args.id) if args.verb == "approve" else intents.reject(args.id, args.note)
        print(f"#{args.id}: {answer}")
        return 0 if answer.ok else 1
    items = intents.approvals(include_answered=args.all)
    if args.json:
        print(json.dumps([item.to_json() for item in items], indent=2))
    elif not items:
        print("Nothing waits for you." if not args.all else "No approvals yet.")
    for item in [] if args.json else items:
        status = "" if item.status == "pending" else f" [{item.status}]"
        twice = ", needs two confirmations" if item.confirmation == "dual" else ""
        print(f"#{item.id}{status} {item.kind}: {item.target}\n    why: {item.reason}\n"
              f"    expires {iso_utc(item.expires_at)} ({item.urgency}{twice})")
    return 0


def _activity(context: AppContext, args: argparse.Namespace) -> int:
    items = Intents(context).activity(limit=args.limit)
    if args.json:
        print(json.dumps([item.to_json() for item in items], indent=2))
        return 0
    if not items:
        print("Your twin has not decided anything yet.")
    for item in items:
        action = f" (action #{item.action_id}{', undo with: undo ' + str(item.action_id) if item.undoable else ''})" \
            if item.action_id else ""
        print(f"{iso_utc(item.at)} {item.kind}: {item.target}\n    {item.outcome}{action}\n    why: {item.why}")
    return 0


def _tier(context: AppContext, args: argparse.Namespace) -> int:
    intents = Intents(context)
    if args.name is None:
        tier = intents.tier()
        print(f"Trust tier: {tier.value} ({tier.label})")
        return 0
    print(intents.set_tier(args.name))
    return 0


def _undo(context: AppContext, args: argparse.Namespace) -> int:
    answer = Intents(context).undo(args.id)
    print(f"Action #{args.id}: {answer}")
    return 0 if answer.ok else 1


def has_display(environ: Mapping[str, str]) -> bool:
    """Qt aborts the process without a display on Linux; tell the person instead."""
    if not sys.platform.startswith("linux") or environ.get("QT_QPA_PLATFORM"):
        return True
    return bool(environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"))


_COMMANDS: dict[str, Callable[[AppContext, argparse.Namespace], int]] = {
    "run": _run,
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
