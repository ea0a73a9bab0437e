"""At home on a desktop: Start at login in Settings shows what the system will really do (and
changes it), the app-menu entry is offered once at a first start and installed by one click, and
`install-desktop-entry` does the same from a terminal. Real files in the test's own home."""

from __future__ import annotations

import os
from pathlib import Path

from skytwin_desktop.autostart import autostart_enabled
from skytwin_desktop.composition import LAUNCHER_OFFERED, LoginEntry, offer_launcher_once
from skytwin_desktop.desktop_entry import desktop_entry_installed
from skytwin_desktop.intents import AppPaths
from skytwin_desktop.ui.settings_window import SettingsWindow
from skytwin_desktop.ui.tray import ADD_LAUNCHER, TrayController
from tests.support.tray import RecordingNotifier


def autostart_file() -> Path:
    return Path(os.environ["XDG_CONFIG_HOME"]) / "autostart" / "skytwin-desktop.desktop"


def settings_window(qtbot, tmp_path) -> SettingsWindow:
    window = SettingsWindow(lambda key, value: None, AppPaths(tmp_path, tmp_path / "db", tmp_path / "logs"),
                            login=LoginEntry())
    qtbot.addWidget(window)
    return window


def test_start_at_login_writes_the_entry_and_shows_the_real_state(qtbot, tmp_path):
    window = settings_window(qtbot, tmp_path)
    assert not window.login_box.isChecked() and not autostart_file().exists()
    window.login_box.click()
    assert autostart_file().exists() and autostart_enabled() and window.login_box.isChecked()
    assert "X-GNOME-Autostart-Delay=" in autostart_file().read_text(), "started after a short delay"
    autostart_file().unlink()  # removed behind the app's back (a tidy-up tool, the desktop's settings)
    window.hide()
    window.show()
    assert not window.login_box.isChecked(), "the box shows what will really happen at the next login"
    window.login_box.click()
    window.login_box.click()
    assert not autostart_file().exists() and not window.login_box.isChecked()


def test_a_login_entry_that_cannot_be_written_is_said_in_words(qtbot, tmp_path):
    autostart_file().parent.parent.mkdir(parents=True, exist_ok=True)
    autostart_file().parent.write_text("a file where the folder should be")
    window = settings_window(qtbot, tmp_path)
    window.login_box.click()
    assert not window.login_box.isChecked(), "not shown as on: nothing will start"
    assert str(autostart_file().parent) in window.login_error.text() and "\n" not in window.login_error.text()


def test_the_app_menu_entry_is_offered_once_and_added_with_one_click(qtbot, tmp_path):
    notifier = RecordingNotifier()
    controller = TrayController(lambda: _report(), notifier=notifier)
    qtbot.addWidget(controller.window)
    marker = tmp_path / LAUNCHER_OFFERED
    offer_launcher_once(controller, marker)
    assert [shown[0] for shown in notifier.shown] == ["launcher"] and marker.exists()
    assert notifier.shown[0][3] == ((ADD_LAUNCHER, "Add to app menu"),)
    controller.notification_action(ADD_LAUNCHER, "launcher")
    assert desktop_entry_installed()
    offer_launcher_once(controller, marker)
    assert len(notifier.shown) == 1, "offered once, not at every start"
    controller.shutdown()


def test_install_desktop_entry_from_the_terminal(cli):
    added = cli("install-desktop-entry")
    assert added.code == 0, added.err
    assert "app menu" in added.out and desktop_entry_installed()
    entry = Path(os.environ["XDG_DATA_HOME"]) / "applications" / "skytwin-desktop.desktop"
    assert str(entry) in added.out
    removed = cli("install-desktop-entry", "--remove")
    assert removed.code == 0 and not entry.exists() and not desktop_entry_installed()
    assert cli("install-desktop-entry", "--remove").out.strip() == "There was no SkyTwin launcher to remove."


def _report():
    from skytwin_desktop.domain import Connector, HealthStatus
    from skytwin_desktop.status import ConnectorState, StatusReport

    return StatusReport(user_id=1, email=None, trust_tier="observer", operator_paused=False, user_paused=False,
                        paused_at=None, paused_reason=None,
                        connectors={c: ConnectorState(HealthStatus.DISABLED) for c in Connector}, pending_approvals=0)


def test_at_a_first_run_the_offer_sits_in_the_welcome_window_not_a_second_notification(qtbot, tmp_path):
    notifier = RecordingNotifier()
    controller = TrayController(lambda: _report(), notifier=notifier)
    qtbot.addWidget(controller.window)
    controller.welcome()
    offer_launcher_once(controller, tmp_path / LAUNCHER_OFFERED)
    assert [shown[0] for shown in notifier.shown] == ["welcome"], "one notification at a time"
    assert controller.window.launcher_box.isVisible()
    controller.window.launcher_button.click()
    assert desktop_entry_installed() and "in your app menu" in controller.window.launcher_text.text()
    assert controller.window.launcher_button.isHidden()
    controller.shutdown()


def test_copy_diagnostics_asks_once_and_says_what_came_of_it(qtbot, tmp_path):
    window = settings_window(qtbot, tmp_path)
    asked = []
    window.copy_diagnostics_requested.connect(lambda: asked.append(True))
    window.diagnostics_button.click()
    assert asked == [True] and not window.diagnostics_button.isEnabled(), "one request at a time"
    assert window.diagnostics_note.text() == "Gathering…"
    window.diagnostics_done("Copied: paste it into your bug report.")
    assert window.diagnostics_button.isEnabled() and window.diagnostics_note.text().startswith("Copied")


def test_without_a_notification_service_the_offer_waits_for_a_later_start(qtbot, tmp_path):
    """Never in the tray's own balloon: a StatusNotifierItem tray keeps its title as the icon's words."""
    controller = TrayController(lambda: _report(), notifier=None)
    qtbot.addWidget(controller.window)
    marker = tmp_path / LAUNCHER_OFFERED
    offer_launcher_once(controller, marker)
    assert not marker.exists() and controller.tray.toolTip() == "SkyTwin — not connected to Google"
    controller.shutdown()
