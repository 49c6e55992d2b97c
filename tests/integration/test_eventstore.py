"""The event store on real PostgreSQL: appends, conflicts, ordering, idempotency, immutability."""

from __future__ import annotations

import itertools
import threading
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from sqlalchemy import Engine

from app.domain.envelope import NewEvent
from app.store.database import libpq_url
from app.store.errors import (
    DuplicateEventId,
    RecordedAtWentBackwards,
    StreamNotCreated,
    WrongExpectedVersion,
)
from app.store.eventstore import EventStore
from tests.conftest import new_id

T0 = datetime(2024, 1, 5, 9, 0, tzinfo=UTC)


def registered(name: str = "Helix Cloud", **extra: object) -> NewEvent:
    return NewEvent(
        type="organization.registered",
        data={"name": name, "kind": "company", **extra},
        occurred_at=T0,
    )


def renamed(name: str, event_id: uuid.UUID | None = None) -> NewEvent:
    return NewEvent(
        type="organization.renamed", data={"name": name}, occurred_at=T0, event_id=event_id
    )


def test_append_assigns_contiguous_versions_and_increasing_positions(store: EventStore) -> None:
    stream = f"org:{new_id()}"
    first = store.append(stream, [registered(), renamed("A")], expected_version=0)
    second = store.append(stream, [renamed("B")], expected_version=2)
    versions = [e.version for e in first.events + second.events]
    positions = [e.position for e in first.events + second.events]
    assert versions == [1, 2, 3]
    assert positions == sorted(positions) and len(set(positions)) == 3
    assert [e.version for e in store.read_stream(stream)] == [1, 2, 3]


def test_stale_expected_version_raises_conflict_and_writes_nothing(store: EventStore) -> None:
    stream = f"org:{new_id()}"
    store.append(stream, [registered()], expected_version=0)
    head = store.head_position()
    with pytest.raises(WrongExpectedVersion) as raised:
        store.append(stream, [renamed("X"), renamed("Y")], expected_version=0)
    assert raised.value.current == 1
    assert store.stream_version(stream) == 1
    assert store.head_position() == head


def test_first_event_of_a_stream_must_create_it(store: EventStore) -> None:
    stream = f"org:{new_id()}"
    with pytest.raises(StreamNotCreated):
        store.append(stream, [renamed("X")])
    assert store.read_stream(stream) == []


def test_creation_event_cannot_be_appended_twice(store: EventStore) -> None:
    stream = f"org:{new_id()}"
    store.append(stream, [registered()])
    with pytest.raises(StreamNotCreated):
        store.append(stream, [registered()])


def test_batch_across_streams_is_all_or_nothing(store: EventStore) -> None:
    good, bad = f"org:{new_id()}", f"org:{new_id()}"
    head = store.head_position()
    with pytest.raises(StreamNotCreated):
        store.append_batch([(good, [registered()], 0), (bad, [renamed("no stream")], None)])
    assert store.read_stream(good) == [] and store.head_position() == head


def test_recorded_at_is_non_decreasing_in_position_order(store: EventStore) -> None:
    stream = f"org:{new_id()}"
    store.append(stream, [registered()])
    for i in range(5):
        store.append(stream, [renamed(f"n{i}")])
    events = store.read_all(after=0, limit=10_000)
    assert all(a.recorded_at <= b.recorded_at for a, b in itertools.pairwise(events))
    assert all(e.recorded_at.tzinfo is not None for e in events)


def test_injected_clock_that_goes_backwards_is_refused(engine: Engine) -> None:
    stream = f"org:{new_id()}"
    late = EventStore(engine, clock=lambda: datetime.now(UTC) + timedelta(days=3650))
    late.append(stream, [registered()])
    early = EventStore(engine, clock=lambda: datetime(2000, 1, 1, tzinfo=UTC))
    with pytest.raises(RecordedAtWentBackwards):
        early.append(stream, [renamed("too early")])


def test_same_event_id_again_is_acknowledged_with_original_position(store: EventStore) -> None:
    stream = f"org:{new_id()}"
    store.append(stream, [registered()])
    event_id = uuid.uuid4()
    first = store.append(stream, [renamed("Nova", event_id)], expected_version=1)
    again = store.append(stream, [renamed("Nova", event_id)], expected_version=1)
    assert first.created and not again.created
    assert again.events[0].position == first.events[0].position
    assert store.stream_version(stream) == 2


def test_same_event_id_with_other_content_is_an_error(store: EventStore) -> None:
    stream = f"org:{new_id()}"
    store.append(stream, [registered()])
    event_id = uuid.uuid4()
    store.append(stream, [renamed("Nova", event_id)])
    with pytest.raises(DuplicateEventId):
        store.append(stream, [renamed("Other", event_id)])
    assert store.stream_version(stream) == 2


def test_reads_by_version_recorded_at_id_and_type(store: EventStore) -> None:
    stream = f"org:{new_id()}"
    written = store.append(stream, [registered(), renamed("A"), renamed("B")]).events
    assert [e.version for e in store.read_stream(stream, up_to_version=2)] == [1, 2]
    assert len(store.read_stream(stream, known_at=written[0].recorded_at)) == 3
    assert store.read_stream(stream, known_at=written[0].recorded_at - timedelta(seconds=1)) == []
    assert store.get(written[1].event_id) == written[1]
    assert store.get(uuid.uuid4()) is None
    page = store.read_all(
        after=written[0].position - 1, types=["organization.renamed"], stream_id=stream
    )
    assert [e.event_id for e in page] == [written[1].event_id, written[2].event_id]


def test_eight_threads_appending_to_one_stream_with_expected_versions(store: EventStore) -> None:
    stream = f"org:{new_id()}"
    store.append(stream, [registered()])
    acknowledged: list[int] = []
    conflicts: list[int] = []
    lock = threading.Lock()

    def writer(n: int) -> None:
        for i in range(15):
            version = store.stream_version(stream)
            try:
                result = store.append(stream, [renamed(f"w{n}-{i}")], expected_version=version)
            except WrongExpectedVersion:
                with lock:
                    conflicts.append(n)
                continue
            with lock:
                acknowledged.append(result.events[0].version)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    versions = [e.version for e in store.read_stream(stream)]
    assert versions == list(range(1, len(versions) + 1))
    assert sorted(acknowledged) == versions[1:]
    assert len(acknowledged) + len(conflicts) == 8 * 15
    assert conflicts, "eight racing writers should have produced at least one conflict"


def test_follower_of_global_log_sees_every_event_once_in_order(store: EventStore) -> None:
    streams = [f"org:{new_id()}" for _ in range(4)]
    start = store.head_position()
    done = threading.Event()
    written: list[int] = []
    lock = threading.Lock()

    def writer(stream: str) -> None:
        result = store.append(stream, [registered()])
        with lock:
            written.extend(e.position for e in result.events)
        for i in range(40):
            result = store.append(stream, [renamed(f"{i}"), renamed(f"{i}b")])
            with lock:
                written.extend(e.position for e in result.events)

    def follower(seen: list[int]) -> None:
        after = start
        while True:
            finished = done.is_set()
            batch = store.read_all(after=after, limit=37)
            for event in batch:
                assert event.position > after, "a position below one already read appeared"
                after = event.position
            seen.extend(e.position for e in batch if e.stream_id in streams)
            if finished and not batch:
                return

    seen: list[int] = []
    follow = threading.Thread(target=follower, args=(seen,))
    follow.start()
    writers = [threading.Thread(target=writer, args=(s,)) for s in streams]
    for t in writers:
        t.start()
    for t in writers:
        t.join()
    done.set()
    follow.join()
    assert seen == sorted(written)
    assert len(seen) == len(set(seen)) == 4 * 81


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE events SET type = 'tampered' WHERE position = (SELECT max(position) FROM events)",
        "DELETE FROM events WHERE position = (SELECT max(position) FROM events)",
        "TRUNCATE events",
        "TRUNCATE events CASCADE",
    ],
)
def test_database_refuses_to_change_or_remove_events(
    store: EventStore, database_url: str, statement: str
) -> None:
    store.append(f"org:{new_id()}", [registered()])
    before = store.head_position()
    with psycopg.connect(libpq_url(database_url)) as conn, pytest.raises(psycopg.Error) as raised:
        conn.execute(statement)
    assert "immutable" in str(raised.value)
    assert store.head_position() == before
