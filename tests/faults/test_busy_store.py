"""Another program holding the database past the busy time-out while the running app polls: the
cycle says so in the tray and polling goes on; once the other program lets go, the next cycle goes
through and clears it, with nothing lost. (No root needed, unlike the full disk.)"""

from __future__ import annotations

import pytest

from skytwin_desktop.domain import Connector
from skytwin_desktop.intents import Intents
from skytwin_desktop.scheduler import PollScheduler
from skytwin_desktop.ui.state import TrayIcon
from skytwin_desktop.ui.tray import TrayController
from tests.support.database import writer_holding

pytestmark = pytest.mark.slow  # starts processes


def test_a_database_held_by_another_program_is_shown_and_polling_goes_on(qtbot, google, app):
    intents = Intents(app)
    intents.running = True
    controller = TrayController(intents.report)
    qtbot.addWidget(controller.window)
    news: list[object] = []
    scheduler = PollScheduler(intents, interval=3600, on_trouble=news.append)
    google.deliver({"from": "ann@partner.example", "subject": "Lunch?", "body": "Tomorrow?"})
    with writer_holding(app.config.database_path):
        scheduler._run(Connector.GMAIL)
        assert [type(item).__name__ for item in news] == ["DatabaseBusyError"]
        controller.troubled(news[-1])
        assert controller.state.icon is TrayIcon.ERROR and "the database is busy" in controller.state.tooltip
        assert not controller.stopped
    scheduler._run(Connector.GMAIL)
    assert news[-1] is None, "the next cycle went through"
    controller.troubled(None)
    assert "busy" not in controller.state.tooltip
    assert intents.report().connectors[Connector.GMAIL].last_success_at is not None
    controller.shutdown()
