"""Decoded events of recently written streams, so a write reads only what it has not seen.

Events never change once committed, so a cached prefix of a stream stays true
for ever: a reader asks the database only for versions after the ones it holds.
Only committed events are cached: ones read back from the database, or appended by a
transaction that has committed.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from app.domain.envelope import RecordedEvent


class StreamCache:
    """A per-process LRU of stream prefixes, bounded by the number of events held."""

    def __init__(self, max_events: int = 100_000) -> None:
        self.max_events = max_events
        self._streams: OrderedDict[str, list[RecordedEvent]] = OrderedDict()
        self._held = 0
        self._lock = threading.Lock()

    def prefix(self, stream_id: str) -> list[RecordedEvent]:
        """Return the cached start of a stream (maybe all of it, maybe nothing)."""
        with self._lock:
            return list(self._streams.get(stream_id, ()))

    def keep(self, stream_id: str, events: list[RecordedEvent]) -> None:
        """Remember a stream's committed events from version 1 on."""
        if not events or len(events) > self.max_events:
            return
        events = list(events)  # the caller's list may grow with events not yet committed
        with self._lock:
            previous = self._streams.pop(stream_id, None)
            if previous is not None:
                self._held -= len(previous)
            if previous is not None and len(previous) > len(events):
                events = previous  # another thread already cached more of this stream
            self._streams[stream_id] = events
            self._held += len(events)
            while self._held > self.max_events and len(self._streams) > 1:
                _, dropped = self._streams.popitem(last=False)
                self._held -= len(dropped)
