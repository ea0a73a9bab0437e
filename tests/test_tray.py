"""The minimal tray: its icon and words for each state, and a window when there is no tray."""

from __future__ import annotations

from PySide6.QtWidgets import QSystemTrayIcon

from skytwin_desktop.domain import Connector, HealthStatus
from skytwin_desktop.status import ConnectorState, StatusReport
from skytwin_desktop.ui.state import TrayIcon, tray_state
from skytwin_desktop.ui.tray import TrayController, icon_for


def report(*, user_paused=False, operator_paused=False, gmail=HealthStatus.CONNECTED,
           calendar=HealthStatus.CONNECTED) -> StatusReport:
    return StatusReport(
        user_id=1, email=None, trust_tier="observer", operator_paused=operator_paused, user_paused=user_paused,
        paused_at=None, paused_reason=None, pending_approvals=0,
        connectors={Connector.GMAIL: ConnectorState(gmail), Connector.CALENDAR: ConnectorState(calendar)},
    )


def test_state_words_and_icons():
    assert tray_state(report()).icon is TrayIcon.LISTENING
    assert tray_state(report()).tooltip == "SkyTwin — listening"
    assert tray_state(report(user_paused=True)).tooltip == "SkyTwin — paused by you"
    assert tray_state(report(user_paused=True)).icon is TrayIcon.PAUSED
    operator = tray_state(report(user_paused=True, operator_paused=True))
    assert operator.icon is TrayIcon.PAUSED and operator.tooltip == "SkyTwin — paused by your administrator"
    broken = tray_state(report(gmail=HealthStatus.NEEDS_REAUTH, user_paused=True))
    assert broken.icon is TrayIcon.ATTENTION
    assert broken.tooltip == "SkyTwin — Gmail needs reconnecting; paused by you"
    both = tray_state(report(gmail=HealthStatus.NEEDS_REAUTH, calendar=HealthStatus.NEEDS_REAUTH))
    assert both.tooltip == "SkyTwin — Gmail and Calendar need reconnecting"


def test_every_icon_loads(qapp):
    for name in TrayIcon:
        icon = icon_for(name)
        assert not icon.isNull(), name
        assert not icon.pixmap(64, 64).isNull(), name


def test_controller_shows_state_and_falls_back_to_a_window_without_a_tray(qtbot):
    controller = TrayController(report(user_paused=True))
    qtbot.addWidget(controller.window)
    assert controller.tray.toolTip() == "SkyTwin — paused by you"
    assert controller.state_action.text() == "SkyTwin — paused by you"
    assert [a.text() for a in controller.menu.actions() if a.text()][-1] == "&Quit"
    controller.place()
    if QSystemTrayIcon.isSystemTrayAvailable():
        assert controller.tray.isVisible() and not controller.window.isVisible()
    else:
        assert controller.window.isVisible()
        assert controller.window.state_label.text() == "SkyTwin — paused by you"
        assert controller.recheck.isActive(), "keeps looking for a tray that appears later"
    controller.show_report(report())
    assert controller.tray.toolTip() == "SkyTwin — listening"
    controller.shutdown()
    assert not controller.window.isVisible() and not controller.recheck.isActive()
