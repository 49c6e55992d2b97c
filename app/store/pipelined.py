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

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar
from uuid import UUID

import psycopg
from psycopg.pq import TransactionStatus
from sqlalchemy.exc import DBAPIError

from app.domain.envelope import RecordedEvent
from app.domain.events import upcast
from app.store.errors import StoreBusy

if TYPE_CHECKING:
    from app.store.eventstore import EventStore

# SQL with psycopg placeholders, and the parameters of each row it is run for.
Statement = tuple[str, Sequence[Sequence[Any] | dict[str, Any]]]
Planned = TypeVar("Planned")
IDLE = TransactionStatus.IDLE

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
_COLUMN_LIST = ", ".join(INSERT_COLUMNS)
_SELECT = f"SELECT {_COLUMN_LIST} FROM events"
# Each read in its plainest form for one stream, the common case: with arrays and joins
# the planner took longer than the query (0.5 ms against 0.08 ms for a stream's tail).
_HEAD = (
    "SELECT h.position, h.recorded_at, clock_timestamp() FROM (SELECT 1) AS one LEFT JOIN"
    " (SELECT position, recorded_at FROM events ORDER BY position DESC LIMIT 1) AS h ON true"
)
_VERSION = "SELECT %(id)s, coalesce(max(version), 0) FROM events WHERE stream_id = %(id)s"
_VERSIONS = (
    "SELECT s.id, coalesce(v.version, 0) FROM unnest(%(ids)s::text[]) AS s(id) LEFT JOIN LATERAL"
    " (SELECT version FROM events WHERE stream_id = s.id ORDER BY version DESC LIMIT 1) AS v"
    " ON true"
)
_TAIL = f"{_SELECT} WHERE stream_id = %(id)s AND version > %(since)s ORDER BY version"
_TAILS = (
    f"SELECT e.* FROM unnest(%(ids)s::text[], %(since)s::int[]) AS s(id, since)"
    f" CROSS JOIN LATERAL ({_SELECT} WHERE stream_id = s.id AND version > s.since"
    " ORDER BY version) AS e"
)
_EXISTING = "SELECT stream_id FROM events WHERE stream_id = %(id)s AND version = 1"
_EXISTING_ANY = "SELECT stream_id FROM events WHERE stream_id = ANY(%(ids)s) AND version = 1"


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
    which of the streams in `existence_of` exist. With `tails_since`, versions are what
    the tails end at, so it must name every stream written and start from a cached prefix.
    `plan` gets all of that and returns the statements to run before the COMMIT and the
    result; what it raises rolls back.
    """
    # BEGIN and COMMIT are sent as statements on an autocommit connection: psycopg's own
    # transaction() waits for the answer to BEGIN and again before COMMIT in pipeline mode.
    with autocommit_connection(store) as (pooled, driver):
        failure: BaseException | None = None
        result: Any = None
        # Cursors are closed only after the COMMIT: closing one in the pipeline would wait.
        with driver.pipeline() as pipeline, _Cursors(driver) as cursor:
            try:
                write = cursor()
                write.execute("BEGIN")
                write.execute(store.lock_statement())
                if ids:
                    found = cursor()
                    found.execute(f"{_SELECT} WHERE event_id = ANY(%(ids)s)", {"ids": ids})
                if tails_since:
                    tails = cursor()
                    _execute_for(
                        tails, _TAIL, _TAILS, list(tails_since), list(tails_since.values())
                    )
                else:
                    versions = cursor()
                    _execute_for(versions, _VERSION, _VERSIONS, stream_ids)
                if existence_of:
                    exist = cursor()
                    _execute_for(exist, _EXISTING, _EXISTING_ANY, existence_of)
                head = cursor()
                head.execute(_HEAD)
                row = head.fetchone()  # the one wait before the writes
                assert row is not None
                seen = Seen(row[0] or 0, row[1], row[2], {})
                if ids:
                    seen.found = [event_of(r) for r in found.fetchall()]
                if tails_since:
                    seen.versions = dict(tails_since)
                    for event in (event_of(r) for r in tails.fetchall()):
                        seen.tails.setdefault(event.stream_id, []).append(event)
                        seen.versions[event.stream_id] = event.version
                else:
                    seen.versions = {stream: int(version) for stream, version in versions}
                if existence_of:
                    seen.existing_streams = {r[0] for r in exist.fetchall()}
                statements, result = plan(seen)
                if _size(statements) <= PIPELINED_WRITE_BYTES:
                    _run(write, statements)
                    write.execute("COMMIT")
                    pipeline.sync()  # the second wait: the writes and the COMMIT
                    statements = []
            except BaseException as error:  # raised once the pipeline is closed cleanly
                failure = error
        if failure is None and statements:
            # Megabytes sent in pipeline mode could stall both ends (psycopg issue #685):
            # a big write goes statement by statement, which costs it nothing noticeable.
            try:
                with driver.cursor() as write:
                    _run(write, statements)
                    write.execute("COMMIT")
            except BaseException as error:
                failure = error
        if failure is not None:
            if not driver.broken and driver.info.transaction_status != IDLE:
                # If even that fails, the connection is dropped below and the server rolls back.
                with suppress(psycopg.Error):
                    driver.execute("ROLLBACK")
            raise_store_error(failure, pooled, driver)
    return result


@contextmanager
def autocommit_connection(store: EventStore) -> Iterator[tuple[Any, psycopg.Connection[Any]]]:
    """Check a connection out of the engine's pool in autocommit mode; put it back as it was."""
    pooled = store.engine.raw_connection()
    driver = pooled.driver_connection
    assert isinstance(driver, psycopg.Connection)
    try:
        try:
            driver.autocommit = True
        except psycopg.Error as failure:  # broken since it was last used
            raise_store_error(failure, pooled, driver)
        yield pooled, driver
    finally:
        try:
            driver.autocommit = False
        except psycopg.Error as error:
            pooled.invalidate(error)  # in a state nobody should be handed
        pooled.close()


def raise_store_error(
    failure: BaseException, pooled: Any, driver: psycopg.Connection[Any]
) -> NoReturn:
    """Raise a failure as the store's callers expect it: busy, or as SQLAlchemy raises it."""
    if isinstance(failure, psycopg.errors.LockNotAvailable):
        raise StoreBusy("the event log is busy; try again") from None
    if isinstance(failure, psycopg.Error):
        # Raised as SQLAlchemy would, so callers see the same errors on either path.
        broken = driver.broken or driver.closed
        if broken:
            pooled.invalidate(failure)
        raise DBAPIError.instance(
            None, None, failure, psycopg.Error, connection_invalidated=broken
        ) from failure
    raise failure


PIPELINED_WRITE_BYTES = 256 * 1024


def _size(statements: list[Statement]) -> int:
    """Return about how many bytes of parameters the statements send."""
    return sum(
        len(value) if isinstance(value, str) else 64
        for _, rows in statements
        for row in rows
        for value in (row.values() if isinstance(row, dict) else row)
    )


def _run(cursor: psycopg.Cursor[Any], statements: list[Statement]) -> None:
    for sql, rows in statements:
        if len(rows) == 1:  # executemany would wait for its own results in a pipeline
            cursor.execute(sql, rows[0])
        elif rows:
            cursor.executemany(sql, rows)


def _execute_for(
    cursor: psycopg.Cursor[Any],
    one: str,
    many: str,
    streams: Sequence[str],
    since: Sequence[int] | None = None,
) -> None:
    """Run the one-stream form of a read, or the array form for several streams."""
    if len(streams) == 1:
        cursor.execute(one, {"id": streams[0], "since": since[0] if since else None})
    else:
        cursor.execute(many, {"ids": list(streams), "since": list(since or [])})


def json_document(value: Any) -> str:
    # One encoding of the whole write: psycopg's per-element array dumpers cost more.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


_INSERT_FROM_JSON = (
    f"INSERT INTO events ({_COLUMN_LIST}) SELECT {_COLUMN_LIST}"
    " FROM jsonb_to_recordset(%s::jsonb) AS x(position bigint, event_id uuid, stream_id text,"
    " version integer, type text, schema_version integer, data jsonb, source jsonb,"
    " metadata jsonb, occurred_at timestamptz, occurred_precision text, recorded_at timestamptz)"
)


def insert_events(rows: Sequence[dict[str, Any]]) -> Statement:
    """Return the INSERT of planned event rows: one statement, the rows as one JSON document.

    psycopg dumping twelve parameters a row, three of them JSON, cost more than the INSERT.
    """
    described = [
        {
            **row,
            "event_id": str(row["event_id"]),
            "occurred_at": row["occurred_at"].isoformat(),
            "recorded_at": row["recorded_at"].isoformat(),
        }
        for row in rows
    ]
    return _INSERT_FROM_JSON, [(json_document(described),)]


def event_of(row: Sequence[Any]) -> RecordedEvent:
    """Decode a row selected in INSERT_COLUMNS order, upcasting its data to the current schema."""
    (position, event_id, stream_id, version, type_, schema, data, source, meta, occurred,
     precision, recorded) = row  # fmt: skip
    schema, data = upcast(type_, schema, dict(data))
    return RecordedEvent(
        position, event_id, stream_id, version, type_, schema, data, source, meta or {},
        occurred, precision, recorded,
    )  # fmt: skip


class _Cursors:
    """Open cursors on a connection as they are asked for, and close them all on exit."""

    def __init__(self, driver: psycopg.Connection[Any]) -> None:
        self.driver = driver
        self.opened: list[psycopg.Cursor[Any]] = []

    def __enter__(self) -> Callable[[], psycopg.Cursor[Any]]:
        return self._open

    def _open(self) -> psycopg.Cursor[Any]:
        self.opened.append(self.driver.cursor())
        return self.opened[-1]

    def __exit__(self, *_: object) -> None:
        for cursor in self.opened:
            cursor.close()
