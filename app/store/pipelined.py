"""A write in a transaction of its own, pipelined: two network round trips however much it does.

A write reads what it must check under the append lock, decides in Python, and writes.
Through SQLAlchemy that was BEGIN, the lock, each read, each INSERT and COMMIT one after
another, each waiting for its answer (and SQLAlchemy's own work per statement cost more
than the round trip). psycopg's pipeline mode sends BEGIN, the lock and every read
together (the server runs them in order, each with a snapshot taken after the lock), then
every write with the COMMIT. `locked_write` is that shape; `plan` is the decision between
the two round trips, made while the lock is held.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

import psycopg
from psycopg.types.json import Jsonb
from sqlalchemy.exc import DBAPIError

from app.domain.envelope import NewEvent, RecordedEvent
from app.domain.events import upcast
from app.store.errors import StoreBusy

if TYPE_CHECKING:
    from app.store.eventstore import AppendResult, EventStore

Writes = Sequence[tuple[str, Sequence[NewEvent], int | None]]
# SQL with psycopg placeholders, and the parameters of each row it is run for.
Statement = tuple[str, Sequence[Sequence[Any] | dict[str, Any]]]
Planned = TypeVar("Planned")

INSERT_COLUMNS = (
    "position",
    "event_id",
    "stream_id",
    "version",
    "type",
    "schema_version",
    "data",
    "source",
    "metadata",
    "occurred_at",
    "occurred_precision",
    "recorded_at",
)
_JSON_COLUMNS = frozenset({"data", "source", "metadata"})
INSERT_EVENTS = (
    f"INSERT INTO events ({', '.join(INSERT_COLUMNS)})"
    f" VALUES ({', '.join(['%s'] * len(INSERT_COLUMNS))})"
)
_SELECT = f"SELECT {', '.join(INSERT_COLUMNS)} FROM events"
_TAILS = (
    f"SELECT {', '.join('e.' + c for c in INSERT_COLUMNS)} FROM events e"
    " JOIN unnest(%(ids)s::text[], %(since)s::int[]) AS s(sid, since)"
    " ON e.stream_id = s.sid AND e.version > s.since ORDER BY e.stream_id, e.version"
)
_REGISTERED = "SELECT stream_id FROM events WHERE stream_id = ANY(%(ids)s) AND version = 1"


@dataclass
class Seen:
    """What a write found under the append lock."""

    head_position: int
    head_recorded_at: datetime | None
    clock: datetime
    versions: dict[str, int]
    found: list[RecordedEvent] = field(default_factory=list)  # events with the write's ids
    tails: dict[str, list[RecordedEvent]] = field(default_factory=dict)
    existing_streams: set[str] = field(default_factory=set)


def locked_write(
    store: EventStore,
    plan: Callable[[Seen], tuple[list[Statement], Planned]],
    *,
    stream_ids: Sequence[str],
    ids: Sequence[UUID] = (),
    tails_since: dict[str, int] | None = None,
    existence_of: Sequence[str] = (),
) -> Planned:
    """Run one write transaction: lock, read, `plan`, write, commit; all of it or nothing.

    Under the lock it reads the log's head and the streams' versions, the events that
    already carry `ids`, each stream's events after the version in `tails_since`, and
    which of the streams in `existence_of` exist. `plan` gets all of that and returns the
    statements to run before the COMMIT and the result; what it raises rolls back.
    """
    from app.store.eventstore import HEAD_AND_VERSIONS, head_and_versions

    with store.engine.connect() as connection:
        driver = connection.connection.driver_connection
        assert isinstance(driver, psycopg.Connection)
        failure: BaseException | None = None
        result: Any = None
        # Cursors are closed only after the COMMIT: closing one in the pipeline would wait.
        with driver.pipeline(), _cursors(driver, 5) as (write, head, found, tails, exist):
            try:
                with driver.transaction():
                    write.execute(store.lock_statement())
                    if ids:
                        found.execute(f"{_SELECT} WHERE event_id = ANY(%(ids)s)", {"ids": ids})
                    if tails_since:
                        since = list(tails_since.items())
                        tails.execute(
                            _TAILS, {"ids": [s for s, _ in since], "since": [v for _, v in since]}
                        )
                    if existence_of:
                        exist.execute(_REGISTERED, {"ids": list(existence_of)})
                    head.execute(HEAD_AND_VERSIONS.format(ids="%(ids)s"), {"ids": stream_ids})
                    row = head.fetchone()  # the one wait before the writes
                    assert row is not None
                    seen = Seen(*head_and_versions(row, stream_ids))
                    if ids:
                        seen.found = [event_of(r) for r in found.fetchall()]
                    if tails_since:
                        for event in (event_of(r) for r in tails.fetchall()):
                            seen.tails.setdefault(event.stream_id, []).append(event)
                    if existence_of:
                        seen.existing_streams = {r[0] for r in exist.fetchall()}
                    statements, result = plan(seen)
                    for sql, rows in statements:
                        if len(rows) == 1:  # executemany would wait for its own results
                            write.execute(sql, rows[0])
                        elif rows:
                            write.executemany(sql, rows)
            except BaseException as error:  # raised once the pipeline is closed cleanly
                failure = error
        if isinstance(failure, psycopg.errors.LockNotAvailable):
            raise StoreBusy("the event log is busy; try again") from None
        if isinstance(failure, psycopg.Error):
            # Raised as SQLAlchemy would, so callers see the same errors on either path.
            broken = driver.broken
            if broken:
                connection.invalidate(failure)
            raise DBAPIError.instance(
                None, None, failure, psycopg.Error, connection_invalidated=broken
            ) from failure
        if failure is not None:
            raise failure
    return result


def append_pipelined(
    store: EventStore, writes: Writes, recorded_at: datetime | None
) -> AppendResult:
    """Append to several streams in one transaction of its own: all of it or nothing."""
    from app.store.eventstore import AppendResult, _recorded, event_ids, originals_of

    flat = [(stream_id, event) for stream_id, batch, _ in writes for event in batch]
    if not flat:
        return AppendResult([], created=False)
    ids = event_ids(flat)

    def plan(seen: Seen) -> tuple[list[Statement], AppendResult]:
        existing = originals_of(flat, seen.found) if ids else None
        if existing is not None:
            return [], AppendResult(existing, created=False)
        now = store._recorded_at(seen.head_recorded_at, recorded_at, seen.clock)
        rows = store.plan_rows(writes, seen.versions, seen.head_position, now)
        return [insert_events(rows)], AppendResult([_recorded(r) for r in rows], created=True)

    stream_ids = list(dict.fromkeys(stream_id for stream_id, _, _ in writes))
    return locked_write(store, plan, stream_ids=stream_ids, ids=ids)


def insert_events(rows: Sequence[dict[str, Any]]) -> Statement:
    """Return the INSERT of planned event rows."""
    return INSERT_EVENTS, [
        tuple(
            Jsonb(row[c]) if c in _JSON_COLUMNS and row[c] is not None else row[c]
            for c in INSERT_COLUMNS
        )
        for row in rows
    ]


def event_of(row: Sequence[Any]) -> RecordedEvent:
    """Decode a row selected in INSERT_COLUMNS order, upcasting its data to the current schema."""
    (position, event_id, stream_id, version, type_, schema, data, source, meta, occurred,
     precision, recorded) = row  # fmt: skip
    schema, data = upcast(type_, schema, dict(data))
    return RecordedEvent(
        position, event_id, stream_id, version, type_, schema, data, source, meta or {},
        occurred, precision, recorded,
    )  # fmt: skip


class _cursors:
    """Open `count` cursors on a connection and close them all on exit."""

    def __init__(self, driver: psycopg.Connection[Any], count: int) -> None:
        self.cursors = [driver.cursor() for _ in range(count)]

    def __enter__(self) -> list[psycopg.Cursor[Any]]:
        return self.cursors

    def __exit__(self, *_: object) -> None:
        for cursor in self.cursors:
            cursor.close()
