"""Recently answered deal states as JSON text, so repeated questions skip the fold and the encoding.

Keys name exactly what an answer was computed from (see DealTracker.deal_state_json): a
stream version, or for a `known_at` before the newest committed event only the question
itself, since nothing recorded later can change what was known then. The cache holds
JSON text, bounded by its total size, in each process.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass

MAX_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class EncodedState:
    """A state as UTF-8 JSON, with a digest of it and the stream version it reflects.

    `stale`: the state carries a stale-status warning (which depends on the clock).
    `position` is the basis position when it can never change (a known_at in the past).
    """

    json: bytes
    digest: str
    version: int
    status: str | None
    last_reported_at: str | None
    stale: bool = False
    position: int | None = None


class StateCache:
    """A least-recently-used map of keys to encoded states, bounded by the texts' total length."""

    def __init__(self, max_bytes: int = MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[Hashable, EncodedState] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> EncodedState | None:
        """Return the entry for `key`, or None."""
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def put(self, key: Hashable, entry: EncodedState) -> None:
        """Keep `entry` under `key`, forgetting the least recently used entries to make room."""
        if len(entry.json) > self.max_bytes // 4:
            return  # one huge state must not flush everything else
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._size -= len(old.json)
            self._entries[key] = entry
            self._size += len(entry.json)
            while self._size > self.max_bytes and self._entries:
                _, dropped = self._entries.popitem(last=False)
                self._size -= len(dropped.json)

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._entries.clear()
            self._size = 0


DEAL_STATES = StateCache()
