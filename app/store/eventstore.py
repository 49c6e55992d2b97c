"""The event store: atomic appends with expected versions, and reads of streams and the global log.

Appends serialise on a transaction-scoped advisory lock, so `position` is assigned
in commit order and a reader of the global log never sees a lower position appear
after a higher one; `recorded_at` is taken under the same lock and never goes
backwards. Positions are allocated as max + 1 under that lock, so they are
gapless as well.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Engine, RowMapping, text
from sqlalchemy.exc import DBAPIError, OperationalError

from app.domain.envelope import NewEvent, RecordedEvent, stream_kind, utc
from app.domain.events import CREATION_TYPES
from app.store.database import reading
from app.store.errors import (
    DuplicateEventId,
    RecordedAtWentBackwards,
    StoreBusy,
    StreamNotCreated,
    WrongExpectedVersion,
)
from app.store.pipelined import INSERT_COLUMNS, event_of
from app.store.streamcache import StreamCache
from app.store.tables import events as events_table

APPEND_LOCK_KEY = 7311000
_COLUMNS = ", ".join(INSERT_COLUMNS)


_ENCODED_COLUMNS = (
    "position, event_id, stream_id, version, type, schema_version, data::text AS data,"
    " source::text AS source, metadata::text AS metadata, occurred_at, occurred_precision,"
    " recorded_at"
)


def _log_query(
    columns: str, after: int, limit: int, types: Sequence[str] | None, stream_id: str | None
) -> tuple[str, dict[str, Any]]:
    """Return the SQL and parameters of a page of the global log."""
    clauses = ["position > :after"]
    params: dict[str, Any] = {"after": after, "limit": limit}
    if types:
        clauses.append("type = ANY(:types)")
        params["types"] = list(types)
    if stream_id is not None:
        clauses.append("stream_id = :stream_id")
        params["stream_id"] = stream_id
    where = " AND ".join(clauses)
    return f"SELECT {columns} FROM events WHERE {where} ORDER BY position LIMIT :limit", params


@dataclass(frozen=True, slots=True)
class AppendResult:
    """What an append wrote, or found already written (an idempotent retry)."""

    events: list[RecordedEvent]
    created: bool


def decode(row: RowMapping | Any) -> RecordedEvent:
    """Turn a row of `events` into a RecordedEvent, upcasting its data to the current schema."""
    return event_of([row[column] for column in INSERT_COLUMNS])


class EventStore:
    """Appends to and reads from the `events` table."""

    def __init__(
        self,
        engine: Engine,
        *,
        clock: Callable[[], datetime] | None = None,
        lock_timeout_ms: int = 5000,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.lock_timeout_ms = lock_timeout_ms
        self.stream_cache = StreamCache()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """Open a write transaction holding the append lock until it commits."""
        with self.engine.begin() as conn:
            self.lock(conn)
            yield conn

    def lock(self, conn: Connection) -> None:
        """Take the append lock for the rest of the transaction, or raise StoreBusy."""
        try:
            conn.exec_driver_sql(self.lock_statement())
        except OperationalError as error:
            if getattr(error.orig, "sqlstate", None) == "55P03":  # lock_not_available
                raise StoreBusy("the event log is busy; try again") from None
            raise

    def lock_statement(self) -> str:
        """Return the SQL that takes the append lock, waiting at most lock_timeout_ms."""
        # One round trip: the FROM clause sets the timeout before the lock is asked for.
        return (
            f"SELECT pg_advisory_xact_lock({APPEND_LOCK_KEY}) FROM"
            f" (SELECT set_config('lock_timeout', '{int(self.lock_timeout_ms)}', true)) AS timeout"
        )

    def append(
        self,
        stream_id: str,
        new_events: Sequence[NewEvent],
        expected_version: int | None = None,
        *,
        recorded_at: datetime | None = None,
    ) -> AppendResult:
        """Append events to one stream atomically, checking the expected version first."""
        return self.append_batch(
            [(stream_id, new_events, expected_version)], recorded_at=recorded_at
        )

    def append_batch(
        self,
        writes: Sequence[tuple[str, Sequence[NewEvent], int | None]],
        *,
        recorded_at: datetime | None = None,
    ) -> AppendResult:
        """Append to several streams in one transaction of its own: all of it or nothing.

        See app/store/own_transaction.py: one statement, or a pipelined write for a retry.
        """
        from app.store.own_transaction import append_own_transaction

        return append_own_transaction(self, writes, recorded_at)

    def plan_rows(
        self,
        writes: Sequence[tuple[str, Sequence[NewEvent], int | None]],
        versions: dict[str, int],
        head_position: int,
        now: datetime,
    ) -> list[dict[str, Any]]:
        """Check expected versions and creation rules; return the rows to insert, in order."""
        rows: list[dict[str, Any]] = []
        for stream_id, batch, expected in writes:
            current = versions[stream_id]
            if expected is not None and expected != current:
                raise WrongExpectedVersion(stream_id, expected, current)
            for event in batch:
                self._check_creation(stream_id, event, versions[stream_id])
                versions[stream_id] += 1
                head_position += 1
                rows.append(self._row(stream_id, versions[stream_id], head_position, event, now))
        return rows

    def import_event(self, conn: Connection, event: RecordedEvent) -> None:
        """Insert an exported event as it was: same id, stream, version, position and recorded_at."""
        self.lock(conn)
        head_position, head_recorded_at = self._head(conn)
        if event.position <= head_position:
            raise StreamNotCreated(
                f"position {event.position} is not after the log's head {head_position}"
            )
        if head_recorded_at is not None and event.recorded_at < head_recorded_at:
            raise RecordedAtWentBackwards(
                f"event {event.event_id} was recorded before the log's newest event"
            )
        if event.version != self.stream_version(event.stream_id, conn=conn) + 1:
            raise WrongExpectedVersion(
                event.stream_id, event.version - 1, self.stream_version(event.stream_id, conn=conn)
            )
        row = {name: getattr(event, name) for name in _COLUMNS.split(", ")}
        row["data"] = dict(event.data)
        row["source"] = dict(event.source) if event.source is not None else None
        row["metadata"] = dict(event.metadata)
        conn.execute(events_table.insert(), [row])

    def stream_version(self, stream_id: str, *, conn: Connection | None = None) -> int:
        """Return the stream's current version (0 when it does not exist)."""
        sql = text("SELECT coalesce(max(version), 0) FROM events WHERE stream_id = :s")
        if conn is None:
            with reading(self.engine) as own:
                return int(own.execute(sql, {"s": stream_id}).scalar_one())
        return int(conn.execute(sql, {"s": stream_id}).scalar_one())

    def read_stream(
        self,
        stream_id: str,
        *,
        up_to_version: int | None = None,
        known_at: datetime | None = None,
        conn: Connection | None = None,
    ) -> list[RecordedEvent]:
        """Return a stream's events in version order, optionally up to a version or a recorded_at."""
        clauses = ["stream_id = :stream_id"]
        params: dict[str, Any] = {"stream_id": stream_id}
        if up_to_version is not None:
            clauses.append("version <= :up_to_version")
            params["up_to_version"] = up_to_version
        if known_at is not None:
            clauses.append("recorded_at <= :known_at")
            params["known_at"] = utc(known_at)
        sql = f"SELECT {_COLUMNS} FROM events WHERE {' AND '.join(clauses)} ORDER BY version"
        return self._query(sql, params, conn)

    def read_all(
        self,
        *,
        after: int = 0,
        limit: int = 500,
        types: Sequence[str] | None = None,
        stream_id: str | None = None,
        conn: Connection | None = None,
    ) -> list[RecordedEvent]:
        """Return events of the global log after a position, in position order."""
        sql, params = _log_query(_COLUMNS, after, limit, types, stream_id)
        return self._query(sql, params, conn)

    def read_all_encoded(
        self,
        *,
        after: int = 0,
        limit: int = 500,
        types: Sequence[str] | None = None,
        stream_id: str | None = None,
        conn: Connection | None = None,
    ) -> list[RowMapping]:
        """Return the rows read_all would decode, with data, source and metadata as JSON text.

        For readers that pass the log on as JSON: decoding the JSON only to encode it again
        was most of the cost of a page. Data is as stored: callers upcast old schema versions.
        """
        sql, params = _log_query(_ENCODED_COLUMNS, after, limit, types, stream_id)
        if conn is None:
            with reading(self.engine) as own:
                return list(own.execute(text(sql), params).mappings())
        return list(conn.execute(text(sql), params).mappings())

    def get(self, event_id: UUID, *, conn: Connection | None = None) -> RecordedEvent | None:
        """Return one event by id, or None."""
        found = self._query(
            f"SELECT {_COLUMNS} FROM events WHERE event_id = :id", {"id": event_id}, conn
        )
        return found[0] if found else None

    def head_position(self, *, conn: Connection | None = None) -> int:
        """Return the highest position in the log (0 when empty)."""
        sql = text("SELECT coalesce(max(position), 0) FROM events")
        if conn is None:
            with reading(self.engine) as own:
                return int(own.execute(sql).scalar_one())
        return int(conn.execute(sql).scalar_one())

    def iter_all(
        self, *, after: int = 0, up_to: int | None = None, batch_size: int = 2000
    ) -> Iterator[RecordedEvent]:
        """Stream the whole log in position order through a server-side cursor, never loading it whole."""
        sql = f"SELECT {_COLUMNS} FROM events WHERE position > :after"
        params: dict[str, Any] = {"after": after}
        if up_to is not None:
            sql += " AND position <= :up_to"
            params["up_to"] = up_to
        with self.engine.connect() as conn:
            result = conn.execution_options(stream_results=True, max_row_buffer=batch_size).execute(
                text(sql + " ORDER BY position"), params
            )
            for partition in result.mappings().partitions(batch_size):
                for row in partition:
                    yield decode(row)

    def _query(
        self, sql: str, params: dict[str, Any], conn: Connection | None
    ) -> list[RecordedEvent]:
        if conn is None:
            with reading(self.engine) as own:
                return [decode(r) for r in own.execute(text(sql), params).mappings()]
        return [decode(r) for r in conn.execute(text(sql), params).mappings()]

    def _head(self, conn: Connection) -> tuple[int, datetime | None]:
        row = conn.execute(
            text("SELECT position, recorded_at FROM events ORDER BY position DESC LIMIT 1")
        ).first()
        return (0, None) if row is None else (int(row[0]), row[1])

    def _recorded_at(
        self, head: datetime | None, supplied: datetime | None, server_now: datetime
    ) -> datetime:
        """Take recorded_at under the lock; a supplied or injected time may not go backwards."""
        explicit = supplied or (self.clock() if self.clock else None)
        if explicit is not None:
            explicit = utc(explicit)
            if head is not None and explicit < head:
                raise RecordedAtWentBackwards(
                    f"recorded_at {explicit.isoformat()} is before the log's newest {head.isoformat()}"
                )
            return explicit
        now = server_now
        # The server clock can step back (NTP); the log's order must not.
        return max(now, head) if head is not None else now

    @staticmethod
    def _check_creation(stream_id: str, event: NewEvent, current_version: int) -> None:
        creation = CREATION_TYPES.get(stream_kind(stream_id))
        if current_version == 0 and event.type != creation:
            raise StreamNotCreated(
                f"the first event of {stream_id} must be {creation}, not {event.type}"
            )
        if current_version > 0 and event.type == creation:
            raise StreamNotCreated(
                f"{stream_id} already exists; {creation} cannot be appended again"
            )

    @staticmethod
    def _row(
        stream_id: str, version: int, position: int, event: NewEvent, now: datetime
    ) -> dict[str, Any]:
        return {
            "position": position,
            "event_id": event.event_id or uuid.uuid4(),
            "stream_id": stream_id,
            "version": version,
            "type": event.type,
            "schema_version": event.schema_version,
            "data": dict(event.data),
            "source": dict(event.source) if event.source is not None else None,
            "metadata": dict(event.metadata),
            "occurred_at": utc(event.occurred_at) if event.occurred_at else now,
            "occurred_precision": event.occurred_precision,
            "recorded_at": now,
        }


def event_ids(flat: Sequence[tuple[str, NewEvent]]) -> list[UUID]:
    """Return the ids a write's events came with, refusing one given twice."""
    ids = [event.event_id for _, event in flat if event.event_id is not None]
    if len(set(ids)) != len(ids):
        raise DuplicateEventId(ids[0], "the same event_id appears twice in one write")
    return ids


def originals_of(
    flat: Sequence[tuple[str, NewEvent]], events: Sequence[RecordedEvent]
) -> list[RecordedEvent] | None:
    """Match a write with the events already in the log that have its ids (a retry), or None."""
    found = {e.event_id: e for e in events}
    if not found:
        return None
    originals = []
    for stream_id, event in flat:
        original = found.get(event.event_id) if event.event_id else None
        if original is None:
            raise DuplicateEventId(
                next(iter(found)), "part of this write is already in the log and part is not"
            )
        difference = _difference(stream_id, event, original)
        if difference:
            raise DuplicateEventId(original.event_id, difference)
        originals.append(original)
    return originals


def _difference(stream_id: str, event: NewEvent, original: RecordedEvent) -> str | None:
    """Say how a retried event differs from the original, or None when it is the same event."""
    if stream_id != original.stream_id:
        return f"stream {original.stream_id}, not {stream_id}"
    if event.type != original.type:
        return f"type {original.type}, not {event.type}"
    if _canonical(event.data) != _canonical(original.data):
        return "different data"
    if _canonical(event.source) != _canonical(original.source):
        return "different source"
    if event.occurred_at is not None and utc(event.occurred_at) != original.occurred_at:
        return "different occurred_at"
    return None


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def _recorded(row: dict[str, Any]) -> RecordedEvent:
    return RecordedEvent(**row)


def is_connection_error(error: BaseException) -> bool:
    """Tell whether a database error means the server is unreachable rather than the SQL is wrong."""
    return isinstance(error, (OperationalError, DBAPIError)) and bool(
        getattr(error, "connection_invalidated", False)
    )
