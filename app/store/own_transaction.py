"""Appends in a transaction of their own: one statement when it can be, else a pipelined write.

An append whose events came without ids (every append but a client's retry) is one
statement, `SELECT * FROM append_events(...)` on an autocommit connection: one round trip
and one WAL flush. The PL/pgSQL function (migrations/versions/0006) takes the append lock,
reads the head and the streams' versions after it, checks expected versions, the creation
rule and recorded_at, and inserts. A retry, which must find the events it already wrote,
goes through locked_write (app/store/pipelined.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING
from uuid import uuid4

import psycopg

from app.domain.envelope import NewEvent, utc
from app.domain.events import CREATION_TYPES
from app.store.pipelined import (
    Seen,
    Statement,
    autocommit_connection,
    insert_events,
    json_document,
    locked_write,
    raise_store_error,
)

if TYPE_CHECKING:
    from app.store.eventstore import AppendResult, EventStore

Writes = Sequence[tuple[str, Sequence[NewEvent], int | None]]


def append_own_transaction(
    store: EventStore, writes: Writes, recorded_at: datetime | None
) -> AppendResult:
    """Append to several streams in one transaction of its own: all of it or nothing."""
    from app.store.eventstore import AppendResult, _recorded, event_ids, originals_of

    flat = [(stream_id, event) for stream_id, batch, _ in writes for event in batch]
    if not flat:
        return AppendResult([], created=False)
    ids = event_ids(flat)
    if not ids and _fits_one_statement(writes):
        return append_in_one_statement(store, writes, recorded_at)

    def plan(seen: Seen) -> tuple[list[Statement], AppendResult]:
        existing = originals_of(flat, seen.found) if ids else None
        if existing is not None:
            return [], AppendResult(existing, created=False)
        now = store._recorded_at(seen.head_recorded_at, recorded_at, seen.clock)
        rows = store.plan_rows(writes, seen.versions, seen.head_position, now)
        return [insert_events(rows)], AppendResult([_recorded(r) for r in rows], created=True)

    stream_ids = list(dict.fromkeys(stream_id for stream_id, _, _ in writes))
    return locked_write(store, plan, stream_ids=stream_ids, ids=ids)


_APPEND_EVENTS = "SELECT * FROM append_events(%s, %s, %s, %s::jsonb, %s::jsonb)"


def append_in_one_statement(
    store: EventStore, writes: Writes, recorded_at: datetime | None
) -> AppendResult:
    """Append events that came without ids with append_events(): one round trip, autocommit.

    The function checks what the store's plan_rows checks, under the same lock; when it
    refuses, plan_rows run on what it found raises the error the store always raised.
    """
    from app.store.eventstore import APPEND_LOCK_KEY, AppendResult, _recorded

    # Ids are made here so the rows the function inserts can be described without reading them.
    writes = [
        (stream_id, [replace(event, event_id=uuid4()) for event in batch], expected)
        for stream_id, batch, expected in writes
    ]
    supplied = recorded_at or (store.clock() if store.clock else None)
    streams: dict[str, tuple[int | None, bool]] = {}
    for stream_id, batch, expected in writes:
        first = streams.get(stream_id)
        if first is None and batch:
            streams[stream_id] = (expected, batch[0].type in CREATION_TYPES.values())
    described = [
        {
            "stream": stream_id,
            "id": str(e.event_id),
            "type": e.type,
            "schema": e.schema_version,
            "data": dict(e.data),
            "source": dict(e.source) if e.source is not None else None,
            "metadata": dict(e.metadata),
            "occurred": utc(e.occurred_at).isoformat() if e.occurred_at else None,
            "precision": e.occurred_precision,
        }
        for stream_id, batch, _ in writes
        for e in batch
    ]
    params = (
        APPEND_LOCK_KEY,
        store.lock_timeout_ms,
        utc(supplied) if supplied else None,
        json_document([{"id": s, "expected": x, "creates": c} for s, (x, c) in streams.items()]),
        json_document(described),
    )
    with autocommit_connection(store) as (pooled, driver):
        try:
            row = driver.execute(_APPEND_EVENTS, params).fetchone()
        except psycopg.Error as failure:
            raise_store_error(failure, pooled, driver)
    assert row is not None
    ok, head, head_at, now, versions = row
    # A refusal stops at the first stream that fails: those after it were not looked at.
    found = {
        stream_id: (versions[i] if i < len(versions) else 0) for i, stream_id in enumerate(streams)
    }
    if not ok:
        store._recorded_at(head_at, supplied, now)
        store.plan_rows(writes, found, head, now)
        raise AssertionError("append_events refused a write the store's checks accept")
    rows = store.plan_rows(writes, found, head, now)
    return AppendResult([_recorded(row) for row in rows], created=True)


def _fits_one_statement(writes: Writes) -> bool:
    """Tell whether append_events() checks all a write asks: one expected version a stream,
    a creation event only first."""
    seen: set[str] = set()
    for stream_id, batch, expected in writes:
        if stream_id in seen and expected is not None:
            return False
        for event in batch:
            if stream_id in seen and event.type in CREATION_TYPES.values():
                return False
            seen.add(stream_id)
    return True
