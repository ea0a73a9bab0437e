"""The Qt binding at the point the app leans on it most: a signal emitted from Python, many times
a minute for months (every poll, every change the façade announces). PySide6 6.12.0 lowered the
reference count of True or False at each emit, so a long-running app died of "deallocating True or
False" within a day or two; pyproject.toml excludes that release, and this keeps a later one honest."""

from __future__ import annotations

import gc
import sys
import threading

from PySide6.QtCore import QObject, Qt, Signal


class Sender(QObject):
    anything = Signal(object)
    nothing = Signal()
    text = Signal(str)


def _counts() -> tuple[int, int, int]:
    return sys.getrefcount(True), sys.getrefcount(False), sys.getrefcount(None)


def test_emitting_leaves_pythons_singletons_counted_right(qtbot):
    sender, received = Sender(), []
    sender.anything.connect(received.append)
    sender.nothing.connect(lambda: received.append("nothing"))
    sender.text.connect(received.append)
    was_collecting = gc.isenabled()
    gc.disable()
    try:
        before = _counts()
        for _ in range(40):  # few: each bad emit brings a crash closer in this very process
            sender.anything.emit(None)
            sender.nothing.emit()
            sender.text.emit("x")
        received.clear()
        after = _counts()
    finally:
        if was_collecting:
            gc.enable()
    assert after == before, f"True, False, None counted {before} before 120 emits and {after} after"


def test_a_queued_emit_from_a_worker_thread_too(qtbot):
    sender, received = Sender(), []
    sender.anything.connect(received.append, Qt.ConnectionType.QueuedConnection)
    was_collecting = gc.isenabled()
    gc.disable()
    try:
        before = _counts()
        worker = threading.Thread(target=lambda: [sender.anything.emit(None) for _ in range(40)])
        worker.start()
        worker.join()
        qtbot.waitUntil(lambda: len(received) == 40, timeout=5000)
        received.clear()
        after = _counts()
    finally:
        if was_collecting:
            gc.enable()
    # A thread of its own moves None's count a little by itself; a bad emit moves one of them by 40.
    assert all(abs(a - b) < 20 for a, b in zip(after, before, strict=True)), (
        f"True, False, None counted {before} before 40 queued emits and {after} after")
