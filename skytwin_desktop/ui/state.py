"""What the tray, its menu and the banners show for a status report.

Pure (no Qt), so every state is tested on its own. State is never carried by colour alone: each
icon has its own shape or badge, and the tooltip and menu say it in words.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from skytwin_desktop import words
from skytwin_desktop.domain import Connector
from skytwin_desktop.status import ConnectorState, StatusReport


class TrayIcon(StrEnum):
    """Icon files in resources/icons."""

    LISTENING = "listening"
    PAUSED = "paused"
    ATTENTION = "attention"
    ATTENTION_PAUSED = "attention-paused"
    """Amber warning with a pause badge: a connector is broken and auto-execution is paused."""
    NOT_READING = "not-reading"
    """Grey with a broken ring: a connected service is not being read right now (offline, Google
    errors, a locked keyring); neither the amber re-auth warning nor the pause."""
    NOT_READING_PAUSED = "not-reading-paused"
    ERROR = "error"


class PauseItem(StrEnum):
    """What the menu's pause entry offers."""

    PAUSE = "pause"
    RESUME = "resume"
    OPERATOR = "operator"
    """Disabled: the administrator's pause, which only the administrator can lift."""




@dataclass(frozen=True)
class Banner:
    kind: str
    """"error" (dark red), "pause" (red), "reauth" (amber) or "not-reading" (grey)."""
    text: str
    connector: Connector | None = None


@dataclass(frozen=True)
class TrayState:
    icon: TrayIcon
    tooltip: str
    pause_item: PauseItem
    approvals: int
    reconnect: tuple[Connector, ...]
    banners: tuple[Banner, ...]
    signing_in: tuple[Connector, ...] = ()
    """Sign-ins waiting in the browser: the menu offers to copy their link or cancel them."""
    headline: str = ""
    """The state in words, without the app's name (the status window's first line)."""


def reauth_message(connector: Connector, error_code: str | None) -> str:
    reason = words.failure(error_code) or words.GENERIC_FAILURE
    title = connector.display_name
    return f"{title} disconnected ({reason}). Your twin has stopped reading {title}. Reconnect to resume."


def pause_banner_text(report: StatusReport) -> str | None:
    if report.operator_paused:
        return ("Auto-execution is paused by your administrator (SKYTWIN_AUTO_EXECUTE_DISABLED). "
                "Every action waits in Approvals.")
    if report.user_paused:
        reason = f' "{report.paused_reason}"' if report.paused_reason else ""
        return f"You paused your twin{reason}. Every action waits in Approvals until you resume."
    return None


NOT_CONNECTED = ("Your twin is not connected to Google yet, so it reads nothing. Connect Gmail or Calendar to "
                 "start.")


def not_reading_message(connector: Connector, state: ConnectorState, now: datetime) -> str:
    why = state.problem_text or "it could not be read"
    retry = f" SkyTwin tries again {words.when(state.retry_at, now)}." if state.retry_at else ""
    return f"Your twin is not reading {connector.display_name} right now: {why}.{retry}"


def tray_state(report: StatusReport, problem: str | None = None, detail: str | None = None, *,
               demo: bool = False) -> TrayState:
    """`problem`: why the app cannot work at all (its database), in a few words, if it cannot;
    `detail`: the same in a whole sentence, with what to do (shown as a banner); `demo`: against
    the built-in pretend Google account, which the tray says."""
    waiting = tuple(wait.connector for wait in report.signing_in)
    icon, pause_item = _icon(report, problem), _pause_item(report)
    headline = "; ".join(_phrases(report, problem, waiting, pause_item, listening=icon is TrayIcon.LISTENING))
    name = "SkyTwin demo (a pretend Google account)" if demo else "SkyTwin"
    return TrayState(icon=icon, tooltip=f"{name} — {headline}", pause_item=pause_item,
                     approvals=report.pending_approvals,
                     reconnect=tuple(c for c in report.needs_reauth if c not in waiting),
                     banners=_banners(report, problem, detail, waiting), signing_in=waiting,
                     headline=headline[:1].upper() + headline[1:])


def _icon(report: StatusReport, problem: str | None) -> TrayIcon:
    """The worst that is true wins: the app cannot work, a service needs reconnecting, a service is
    not being read; the last two with a pause badge when paused."""
    paused = report.operator_paused or report.user_paused
    if problem:
        return TrayIcon.ERROR
    if report.needs_reauth:
        return TrayIcon.ATTENTION_PAUSED if paused else TrayIcon.ATTENTION
    if report.not_reading or report.nothing_connected:
        return TrayIcon.NOT_READING_PAUSED if paused else TrayIcon.NOT_READING
    return TrayIcon.PAUSED if paused else TrayIcon.LISTENING


def _phrases(report: StatusReport, problem: str | None, waiting: tuple[Connector, ...], pause_item: PauseItem, *,
             listening: bool) -> list[str]:
    """The state in words, worst first; "listening to …" last, when the icon says listening (a
    sign-in may be waiting meanwhile)."""
    phrases = [problem] if problem else []
    if waiting:
        phrases.append(f"waiting for you to sign in to {_and(waiting)} in your browser")
    elif report.nothing_connected:
        phrases.append("not connected to Google")
    broken = report.needs_reauth
    if broken:
        phrases.append(f"{_and(broken)} {'needs' if len(broken) == 1 else 'need'} reconnecting")
    phrases.extend(_not_reading_phrases(report))
    paused_by = _PAUSED_BY.get(pause_item)
    if paused_by:
        phrases.append(paused_by)
    if listening:
        phrases.append(f"listening to {_and([c for c, state in report.connectors.items() if state.reading])}")
    return phrases


def _not_reading_phrases(report: StatusReport) -> list[str]:
    """One phrase per reason, naming the services it keeps from being read."""
    by_why: dict[str, list[Connector]] = {}
    for connector in report.not_reading:
        by_why.setdefault(_problem_phrase(report.connectors[connector]), []).append(connector)
    return [f"not reading {_and(connectors)} ({why})" for why, connectors in by_why.items()]


def _and(connectors: Sequence[Connector]) -> str:
    return " and ".join(connector.display_name for connector in connectors)


def _pause_item(report: StatusReport) -> PauseItem:
    if report.operator_paused:
        return PauseItem.OPERATOR
    return PauseItem.RESUME if report.user_paused else PauseItem.PAUSE


_PAUSED_BY = {PauseItem.OPERATOR: "paused by your administrator", PauseItem.RESUME: "paused by you"}


def _banners(report: StatusReport, problem: str | None, detail: str | None,
             waiting: tuple[Connector, ...]) -> tuple[Banner, ...]:
    banners = [Banner("error", detail)] if problem and detail else []
    pause_text = pause_banner_text(report)
    if pause_text:
        banners.append(Banner("pause", pause_text))
    for connector in report.needs_reauth:
        banners.append(Banner("reauth", reauth_message(connector, report.connectors[connector].error_code), connector))
    for connector in report.not_reading:
        banners.append(Banner("not-reading", not_reading_message(connector, report.connectors[connector], report.now)))
    if report.nothing_connected and not waiting:
        banners.append(Banner("not-reading", NOT_CONNECTED))
    return tuple(banners)


def _problem_phrase(state: ConnectorState) -> str:
    return words.read_problem(state.problem)


class ReauthNotices:
    """Decides when to show and close the re-auth notification: once per transition into
    needs_reauth (never every poll), closed when the connector is connected again."""

    def __init__(self) -> None:
        self.shown: set[Connector] = set()

    def update(self, report: StatusReport) -> tuple[list[tuple[Connector, str]], list[Connector]]:
        """(to show: connector and message, to close)."""
        broken = set(report.needs_reauth)
        show = [(c, reauth_message(c, report.connectors[c].error_code)) for c in Connector
                if c in broken and c not in self.shown]
        close = [c for c in Connector if c in self.shown and c not in broken]
        self.shown = broken
        return show, close
