"""Work the GUI thread must not do (network calls: approving runs the action at Google), done
on a short-lived thread, with the result handed back to the GUI thread by a queued signal."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, Signal

log = logging.getLogger(__name__)


class Background(QObject):
    _finished = Signal(object, object)  # the callback, and the work's result (or its error in words)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._finished.connect(lambda done, result: done(result), Qt.ConnectionType.QueuedConnection)

    def run(self, name: str, work: Callable[[], str], done: Callable[[str], None],
            failed: Callable[[str], None] | None = None) -> None:
        """`done` gets what `work` returned, or its error as one line (given to `failed` instead,
        when there is one); always on the GUI thread."""
        def target() -> None:
            try:
                result, callback = work(), done
            except Exception as exc:  # noqa: BLE001 - shown to the person in words; the log keeps the details
                log.warning("%s failed: %s", name, exc)
                result, callback = str(exc) or type(exc).__name__, failed or done
            self._finished.emit(callback, result)

        threading.Thread(target=target, name=name, daemon=True).start()
