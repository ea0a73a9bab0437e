"""Stand-ins at the tray's boundaries: the composition root's queued bridge and the desktop's
notification service."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal


class Bridge(QObject):
    """As the composition root wires it: the façade's changes reach the tray through a queued signal."""

    changed = Signal(object)

    def __init__(self, controller):
        super().__init__()
        self.changed.connect(controller.changed, Qt.ConnectionType.QueuedConnection)


class RecordingNotifier:
    """Stands in for the desktop's notification service (the D-Bus boundary)."""

    def __init__(self):
        self.shown, self.closed = [], []

    def show(self, tag, summary, body, *, actions=(), persistent=True):
        self.shown.append((tag, summary, body, actions))

    def close(self, tag):
        self.closed.append(tag)

    def shutdown(self):
        pass
