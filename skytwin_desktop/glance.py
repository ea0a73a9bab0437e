"""The façade's look at a store no app is running on: its status report read straight from the
file with `sqlite3`, changing nothing. `status` then answers in a fraction of the full opening's
time (loading SQLAlchemy is most of that). Anything unusual is left to the full opening, which
reports it in words."""

from __future__ import annotations

from skytwin_desktop.clock import Clock, utc_now
from skytwin_desktop.config import Config
from skytwin_desktop.status import StatusReport
from skytwin_desktop.store.status import peek


def status_without_app(config: Config, clock: Clock = utc_now) -> StatusReport | None:
    """The report as `Intents.report` gives it with no app running, or None when only the full
    opening can answer (no database yet, an older schema, a folder it cannot write, damage)."""
    return peek(config.database_path, operator_paused=config.auto_execute_disabled, now=clock())
