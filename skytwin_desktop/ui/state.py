"""What the tray shows for a status report: pure, so every state is tested without Qt."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from skytwin_desktop.domain import HealthStatus
from skytwin_desktop.status import StatusReport


class TrayIcon(StrEnum):
    """Icon files in resources/icons; each state has its own shape, never colour alone."""

    LISTENING = "listening"
    PAUSED = "paused"
    ATTENTION = "attention"
    ERROR = "error"


@dataclass(frozen=True)
class TrayState:
    icon: TrayIcon
    tooltip: str
    """Says the state in words: the icon's colour is never the only signal."""


def tray_state(report: StatusReport) -> TrayState:
    broken = [name.title for name, state in report.connectors.items() if state.status is HealthStatus.NEEDS_REAUTH]
    phrases = []
    if broken:
        phrases.append(f"{' and '.join(broken)} {'needs' if len(broken) == 1 else 'need'} reconnecting")
    if report.operator_paused:
        phrases.append("paused by your administrator")
    elif report.user_paused:
        phrases.append("paused by you")
    if broken:
        icon = TrayIcon.ATTENTION
    elif report.operator_paused or report.user_paused:
        icon = TrayIcon.PAUSED
    else:
        icon = TrayIcon.LISTENING
        phrases.append("listening")
    return TrayState(icon=icon, tooltip="SkyTwin — " + "; ".join(phrases))
