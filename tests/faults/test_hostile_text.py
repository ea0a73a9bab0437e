"""Text from a hostile sender reaches the person as text: control sequences in a subject are shown
in the terminal, never obeyed (JSON output keeps the original, escaped by JSON itself)."""

from __future__ import annotations

import json

import pytest

from skytwin_desktop.domain import Connector
from skytwin_desktop.text import printable
from tests.support.app_process import run_cli

pytestmark = pytest.mark.slow  # starts processes

TITLE_AND_CLEAR = "\x1b]0;pwned\x07Invoice \x1b[2J\x9b31m\u202eFDP.exe"
NEWSLETTER = {"List-Unsubscribe": "<mailto:leave@news.example>", "List-Id": "<weekly.news.example>"}


def test_printable_shows_every_control_but_newline_and_tab():
    assert printable("a\tb\nc") == "a\tb\nc"
    assert printable(TITLE_AND_CLEAR) == "\\x1b]0;pwned\\x07Invoice \\x1b[2J\\x9b31m\\u202eFDP.exe"
    assert printable("Caf\u00e9 \u2014 \U0001f600") == "Caf\u00e9 \u2014 \U0001f600", "ordinary text untouched"


def test_subjects_with_escape_sequences_are_shown_not_obeyed(google, app):
    google.deliver({"from": "digest@news.example", "subject": TITLE_AND_CLEAR, "body": "x", "headers": NEWSLETTER})
    app.connectors.poll(Connector.GMAIL)
    app.twin.process_inbox()
    for command in (("approvals", "list"), ("activity",), ("approvals", "list", "--all")):
        shown = run_cli(*command)
        assert shown.returncode == 0, shown.stderr
        assert "Invoice" in shown.stdout, (command, shown.stdout)
        for raw in ("\x1b", "\x07", "\x9b", "\u202e"):
            assert raw not in shown.stdout, (command, raw)
        assert "\\x1b]0;pwned\\x07Invoice" in shown.stdout
    listed = json.loads(run_cli("approvals", "list", "--json").stdout)
    assert any(TITLE_AND_CLEAR in item["target"] for item in listed), "JSON keeps the original text"


RICH = "<b>URGENT</b> <a href='http://127.0.0.1:9/'>confirm</a> <img src='http://127.0.0.1:9/x.png'>"


def test_mail_text_in_the_windows_is_shown_as_written_never_as_rich_text(qtbot, google, app, tmp_path):
    """A QLabel reads text that looks like HTML as rich text: a subject would become a link, an
    image or formatting passing for SkyTwin's own words. Every label showing it is plain text."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QLabel

    from skytwin_desktop.intents import AppPaths, Intents
    from skytwin_desktop.signals import SetAside
    from skytwin_desktop.store.set_aside import set_aside
    from skytwin_desktop.ui.approvals_window import ApprovalsWindow
    from skytwin_desktop.ui.pause_dialog import PauseDialog
    from skytwin_desktop.ui.settings_window import SettingsWindow
    from skytwin_desktop.ui.tray import TrayController

    google.deliver({"from": "digest@news.example", "subject": RICH, "body": "x", "headers": NEWSLETTER})
    app.connectors.poll(Connector.GMAIL)
    app.twin.process_inbox()
    with app.session() as session:
        set_aside(session, app.user_id, [SetAside(Connector.GMAIL, "m-odd", "could not be read", RICH, RICH)], "read")
    facade = Intents(app)
    facade.set_pause(True, RICH)
    report = facade.report()
    controller = TrayController(lambda: report)
    qtbot.addWidget(controller.window)
    controller.refresh()
    settings = SettingsWindow(lambda key, value: None, AppPaths(tmp_path / "<i>folder</i>", tmp_path / "db",
                                                                 tmp_path / "logs"))
    qtbot.addWidget(settings)
    settings.show_report(report)
    pause = PauseDialog(report)
    qtbot.addWidget(pause)
    pause.show_report(report)
    approvals = ApprovalsWindow(facade)
    qtbot.addWidget(approvals)
    approvals.reload()
    assert approvals.pending.count() == 1
    showing = [label for window in (controller.window, settings, pause, approvals)
               for label in window.findChildren(QLabel) if "<b>URGENT" in label.text() or "<i>" in label.text()]
    names = {label.objectName() for label in showing}
    assert {"card-text", "summary", "pause-line", "person-line", "pause-banner"} <= names, names
    assert [label.objectName() or label.text() for label in showing
            if label.textFormat() != Qt.TextFormat.PlainText] == []
    controller.shutdown()
