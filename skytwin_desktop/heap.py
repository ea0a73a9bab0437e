"""Where and when Python's cycle collector runs in the tray app.

Two reasons to steer it. A full collection walks every tracked object while holding the GIL; with
Qt, SQLAlchemy and the app loaded that is 100+ ms, during which the GUI thread cannot run. Nearly
all of those objects are made at start-up and live until exit, so once start-up is done they are
moved out of the collector's reach (`gc.freeze`). And a collection runs on whichever thread
happens to allocate when a threshold is crossed: a worker thread carrying out an approval could
finalise Qt objects, which must die on the GUI thread. So automatic collection is switched off
after start-up and the GUI thread collects a moment after the app's work begins, and every few
seconds while it goes on (`collect_here`).
"""

from __future__ import annotations

import gc


def settle_after_startup() -> None:
    gc.collect()
    gc.freeze()
    gc.disable()


def collect_here() -> None:
    """Collect now, on the calling (GUI) thread: during and after work, never on a timer of its own."""
    gc.collect()
