"""Appends without client ids go through append_events() in one statement: same rules, same rows."""

from __future__ import annotations

import threading
import uuid
from dataclasses import replace
from datetime import UTC, datetime

import psycopg
import pytest
from sqlalchemy import Engine

from app.domain.envelope import NewEvent
from app.store.database import libpq_url
from app.store.errors import StoreBusy, WrongExpectedVersion
from app.store.eventstore import EventStore
from tests.conftest import new_id

T0 = datetime(2024, 1, 5, 9, 0, tzinfo=UTC)


def registered(name: str = "Helix Cloud") -> NewEvent:
    return NewEvent(
        type="organization.registered", data={"name": name, "kind": "company"}, occurred_at=T0
    )


def renamed(name: str) -> NewEvent:
    return NewEvent(type="organization.renamed", data={"name": name}, occurred_at=T0)


def test_answer_describes_exactly_the_rows_written(store: EventStore) -> None:
    first, second = f"org:{new_id()}", f"org:{new_id()}"
    untimed = NewEvent(type="organization.renamed", data={"name": "한빛 클라우드"})
    result = store.append_batch(
        [(first, [registered(), untimed], 0), (second, [registered("둘")], None)]
    )
    written = store.read_stream(first) + store.read_stream(second)
    assert result.created and result.events == written
    assert [e.version for e in written] == [1, 2, 1]
    assert [e.position for e in result.events] == [result.events[0].position + i for i in range(3)]
    # No occurred_at means "when it was recorded"; no source is SQL NULL, not JSON null.
    assert written[1].occurred_at == written[1].recorded_at
    assert all(e.source is None for e in written)


def test_refused_second_stream_leaves_the_first_unwritten(store: EventStore) -> None:
    good, stale = f"org:{new_id()}", f"org:{new_id()}"
    store.append(stale, [registered()])
    head = store.head_position()
    with pytest.raises(WrongExpectedVersion) as raised:
        store.append_batch([(good, [registered()], 0), (stale, [renamed("x")], 0)])
    assert (raised.value.stream_id, raised.value.current) == (stale, 1)
    assert store.read_stream(good) == [] and store.head_position() == head


def test_append_waits_for_the_lock_no_longer_than_its_timeout(engine: Engine) -> None:
    stream = f"org:{new_id()}"
    store = EventStore(engine, lock_timeout_ms=200)
    holding, release = threading.Event(), threading.Event()

    def hold_the_lock() -> None:
        with psycopg.connect(libpq_url(str(engine.url.render_as_string(False)))) as conn:
            conn.execute("SELECT pg_advisory_xact_lock(7311000)")
            holding.set()
            release.wait(10)

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    try:
        assert holding.wait(10)
        with pytest.raises(StoreBusy):
            store.append(stream, [registered()])
    finally:
        release.set()
        holder.join()
    assert store.append(stream, [registered()]).created


def test_write_of_megabytes_with_ids_is_not_stalled_by_pipeline_mode(store: EventStore) -> None:
    # Thousands of events with their own ids (an import, a replayed batch) take the
    # pipelined path; sent in pipeline mode, a write this big stalled both ends.
    streams = [f"org:{new_id()}" for _ in range(40)]
    writes = [(stream, [registered("긴 이름 " * 40)], 0) for stream in streams]
    writes += [
        (
            stream,
            [
                NewEvent(
                    type="organization.renamed",
                    data={"name": f"{i} " + "ㄱ" * 300},
                    event_id=uuid.uuid4(),
                )
            ],
            None,
        )
        for i in range(60)
        for stream in streams
    ]
    writes[0] = (streams[0], [replace(writes[0][1][0], event_id=uuid.uuid4())], 0)
    result = store.append_batch(writes)
    assert result.created and len(result.events) == 40 * 61
    assert [e.version for e in store.read_stream(streams[-1])] == list(range(1, 62))
