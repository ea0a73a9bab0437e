"""Keeping the GUI responsive while the twin works on a background thread.

Python's full garbage collection walks every tracked object while holding the GIL; with Qt,
SQLAlchemy and the app loaded that is 100+ ms, during which the GUI thread cannot run. Nearly all
of those objects are made at start-up and live until exit, so once start-up is done they are
moved out of the collector's reach (`gc.freeze`). Collection still runs for everything newer.
"""

from __future__ import annotations

import gc


def settle_after_startup() -> None:
    gc.collect()
    gc.freeze()
