"""The stream cache asks only for versions after the prefix it holds, and stays bounded."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from app.domain.envelope import RecordedEvent
from app.store.streamcache import StreamCache

T = datetime(2025, 1, 1, tzinfo=UTC)


def event(stream_id: str, version: int) -> RecordedEvent:
    return RecordedEvent(
        version,
        uuid.uuid4(),
        stream_id,
        version,
        "organization.renamed",
        1,
        {"name": "x"},
        None,
        {},
        T,
        "instant",
        T,
    )


class Log:
    def __init__(self) -> None:
        self.streams: dict[str, list[RecordedEvent]] = {}
        self.asked: list[tuple[str, int]] = []

    def append(self, stream_id: str, count: int) -> None:
        stream = self.streams.setdefault(stream_id, [])
        stream.extend(event(stream_id, len(stream) + 1) for _ in range(count))

    def read_after(self, stream_id: str, after_version: int) -> list[RecordedEvent]:
        self.asked.append((stream_id, after_version))
        return [e for e in self.streams.get(stream_id, []) if e.version > after_version]


def read(cache: StreamCache, log: Log, stream_id: str) -> list[RecordedEvent]:
    """Read a stream as a write does: the cached prefix, the log after it, and keep both."""
    prefix = cache.prefix(stream_id)
    events = prefix + log.read_after(stream_id, prefix[-1].version if prefix else 0)
    cache.keep(stream_id, events)
    return events


def test_a_second_read_fetches_only_the_new_versions() -> None:
    log, cache = Log(), StreamCache()
    log.append("org:a", 3)
    assert [e.version for e in read(cache, log, "org:a")] == [1, 2, 3]
    log.append("org:a", 2)
    assert [e.version for e in read(cache, log, "org:a")] == [1, 2, 3, 4, 5]
    assert log.asked == [("org:a", 0), ("org:a", 3)]


def test_callers_get_their_own_list() -> None:
    log, cache = Log(), StreamCache()
    log.append("org:a", 1)
    mine = read(cache, log, "org:a")
    mine.append(event("org:a", 99))  # kept, then grown with an event that never committed
    assert [e.version for e in read(cache, log, "org:a")] == [1]
    cache.prefix("org:a").append(event("org:a", 98))
    assert [e.version for e in cache.prefix("org:a")] == [1]


def test_least_recently_read_streams_are_dropped_beyond_the_bound() -> None:
    log, cache = Log(), StreamCache(max_events=5)
    log.append("org:a", 3)
    log.append("org:b", 3)
    read(cache, log, "org:a")
    read(cache, log, "org:b")
    read(cache, log, "org:a")
    assert log.asked[-1] == ("org:a", 0)  # a was dropped to make room for b
