"""Which action records a thread of this process is working on right now.

A record is held by one process at a time through the database (its pid and a lease); within the
process, by one thread, through here: an approval being carried out is never picked up as "left
over" by a pass running beside it. The composition root makes one `Holds` for the process and
every part of the twin shares it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class Holds:
    def __init__(self) -> None:
        self._held: set[int] = set()
        self._lock = threading.Lock()

    @contextmanager
    def exclusively(self, record_id: int) -> Iterator[bool]:
        """Hold a record for this thread; yields False (holding nothing) when another thread has it."""
        with self._lock:
            free = record_id not in self._held
            self._held.add(record_id)
        try:
            yield free
        finally:
            if free:
                with self._lock:
                    self._held.discard(record_id)
