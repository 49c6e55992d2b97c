"""Bulk loading: generated events go straight into the store in big batches, bypassing HTTP.

Each batch is one EventStore.append_batch transaction with its own recorded_at, spaced a
minute apart and ending before now, so the log has a history that `known_at` questions
can point into.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta

from app.store.eventstore import EventStore
from bench.generate import Item

STEP = timedelta(minutes=1)


class Timeline:
    """Hands out recorded_at for each bulk batch: a minute apart, all of them in the past."""

    def __init__(self, batches: int) -> None:
        self.next_at = datetime.now(UTC).replace(microsecond=0) - STEP * (batches + 10)
        self.moments: list[datetime] = []

    def take(self) -> datetime:
        """Return the recorded_at of the next batch."""
        moment, self.next_at = self.next_at, self.next_at + STEP
        self.moments.append(moment)
        return moment


def load(store: EventStore, items: Iterable[Item], timeline: Timeline, batch_size: int) -> int:
    """Append every item in batches of `batch_size` events per transaction; return the count."""
    count = 0
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, batch_size)):
        writes = [(stream_id, [event], None) for stream_id, event in batch]
        store.append_batch(writes, recorded_at=timeline.take())
        count += len(batch)
    return count


def interleave(
    seed: int, prefix: Iterator[Item], *streams: tuple[Iterator[Item], int]
) -> Iterator[Item]:
    """Yield the prefix, then the streams mixed at random in proportion to what each has left."""
    yield from prefix
    r = random.Random(seed)
    left = [count for _, count in streams]
    while any(left):
        index = r.choices(range(len(streams)), weights=left)[0]
        left[index] -= 1
        yield next(streams[index][0])
