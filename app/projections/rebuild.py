"""Rebuild the read models by replaying the whole log into shadow tables, then swap them in."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, text

from app.domain.envelope import RecordedEvent
from app.domain.events import CURRENT_SCHEMA_VERSIONS, upcast
from app.progress import Progress
from app.projections.readmodels import (
    LIVE,
    Tables,
    rows_for_stream,
    set_checkpoint,
    write_stream,
)
from app.store.eventstore import EventStore

SHADOW = Tables("organization_view_rebuild", "deal_view_rebuild", "deal_party_view_rebuild")
_WRITE_BATCH = 500


@dataclass(frozen=True)
class RebuildResult:
    """What a rebuild replayed."""

    events: int
    streams: int
    position: int


def rebuild(
    store: EventStore, *, progress: Progress | None = None, batch_size: int = 2000
) -> RebuildResult:
    """Replay the log into shadow tables while the service keeps answering, then swap them in atomically."""
    engine = store.engine
    _create_shadow(engine)
    head = store.head_position()
    if progress is not None:
        progress.total = head
    events = streams = 0
    pending: list[tuple[list[Any], list[Any], list[str], list[Any]]] = []
    with engine.begin() as conn:
        for stream_id, stream_events in _streams(engine, head, batch_size):
            pending.append(rows_for_stream(stream_id, stream_events))
            events += len(stream_events)
            streams += 1
            if progress is not None:
                progress.advance(len(stream_events))
            if len(pending) >= _WRITE_BATCH:
                _flush(conn, pending)
        _flush(conn, pending)
    with store.transaction() as conn:
        # Holding the append lock: fold in whatever was appended during the replay, then swap.
        tail = store.read_all(after=head, limit=10**9, conn=conn)
        for stream_id in dict.fromkeys(e.stream_id for e in tail):
            write_stream(conn, stream_id, store.read_stream(stream_id, conn=conn), SHADOW)
        _swap(conn)
        position = max([head, *(e.position for e in tail)])
        conn.execute(
            text("UPDATE projection_checkpoints SET position = 0 WHERE name = 'read_models'")
        )
        set_checkpoint(conn, position)
    if progress is not None:
        progress.finish()
    return RebuildResult(events=events, streams=streams, position=position)


def _streams(
    engine: Engine, head: int, batch_size: int
) -> Iterator[tuple[str, list[RecordedEvent]]]:
    """Yield each stream's events in turn, reading the log by stream through a server-side cursor.

    The rows are read with psycopg directly: SQLAlchemy's row objects and the copies of
    each event's data cost more than the read itself on a replay of the whole log.
    """
    sql = (
        f"SELECT {_REPLAY_COLUMNS} FROM events"
        " WHERE position <= %(head)s ORDER BY stream_id, version"
    )
    current = CURRENT_SCHEMA_VERSIONS
    with engine.connect() as conn:
        driver = conn.connection.driver_connection
        assert driver is not None
        with driver.cursor(name="rebuild_replay") as cursor:
            cursor.itersize = batch_size
            cursor.execute(sql, {"head": head})
            stream: str | None = None
            bucket: list[RecordedEvent] = []
            while rows := cursor.fetchmany(batch_size):
                documents = _decode_documents(rows)
                for index, row in enumerate(rows):
                    (position, event_id, stream_id, version, type_, schema) = row[:6]
                    data, source, metadata = documents[3 * index : 3 * index + 3]
                    if stream_id != stream:
                        if bucket and stream is not None:
                            yield stream, bucket
                        stream, bucket = stream_id, []
                    if schema < current.get(type_, schema):
                        schema, data = upcast(type_, schema, data)
                    bucket.append(
                        RecordedEvent(
                            position, event_id, stream_id, version, type_, schema, data,
                            source, metadata or {}, row[9], row[10], row[11],
                        )
                    )  # fmt: skip
            if bucket and stream is not None:
                yield stream, bucket


# The JSON columns arrive as text (SQL NULL as JSON null) and are decoded a batch at a time.
_REPLAY_COLUMNS = (
    "position, event_id, stream_id, version, type, schema_version, data::text,"
    " coalesce(source::text, 'null'), coalesce(metadata::text, 'null'),"
    " occurred_at, occurred_precision, recorded_at"
)


def _decode_documents(rows: list[Any]) -> list[Any]:
    """Return the data, source and metadata of every row, in order, decoded with one json.loads.

    A json.loads call per value cost more than decoding the values themselves.
    """
    return json.loads("[" + ",".join(text for row in rows for text in row[6:9]) + "]")


def _flush(conn: Any, pending: list[tuple[list[Any], list[Any], list[str], list[Any]]]) -> None:
    if not pending:
        return
    organizations = [row for item in pending for row in item[0]]
    deals = [row for item in pending for row in item[1]]
    parties = {tuple(row[c] for c in _PARTY_COLUMNS) for item in pending for row in item[3]}
    # Shadow tables start empty and each stream is folded once, so the rows are copied in
    # rather than upserted: no conflicts to resolve, no parties to delete first.
    _copy(conn, SHADOW.organizations, _ORG_COLUMNS, organizations)
    _copy(conn, SHADOW.deals, _DEAL_COLUMNS, deals)
    _copy_tuples(conn, SHADOW.parties, _PARTY_COLUMNS, sorted(parties))
    pending.clear()


_ORG_COLUMNS = ("org_id", "name", "kind", "search_text", "version", "position", "state")
_DEAL_COLUMNS = ("deal_id", "kind", "status", "title", "version", "position", "state")
_PARTY_COLUMNS = ("deal_id", "org_id", "role")


def _copy(conn: Any, table: str, columns: tuple[str, ...], rows: list[dict[str, Any]]) -> None:
    """COPY folded rows into a shadow table, each state as JSON text."""
    values = [(*(row[c] for c in columns[:-1]), _state_json(row["state"])) for row in rows]
    _copy_tuples(conn, table, columns, values)


def _copy_tuples(
    conn: Any, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> None:
    if not rows:
        return
    driver = conn.connection.driver_connection  # psycopg, in the caller's transaction
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def _state_json(state: Any) -> str:
    return json.dumps(state, ensure_ascii=False, separators=(",", ":"))


def _create_shadow(engine: Engine) -> None:
    """Create empty shadow tables shaped like the live ones (unlogged: they are scratch space)."""
    with engine.begin() as conn:
        for shadow, live in zip(SHADOW.names(), LIVE.names(), strict=True):
            conn.execute(text(f"DROP TABLE IF EXISTS {shadow}"))
            conn.execute(text(f"CREATE UNLOGGED TABLE {shadow} (LIKE {live} INCLUDING ALL)"))


def _swap(conn: Any) -> None:
    """Replace the live rows with the shadow ones in the caller's transaction.

    Rows are copied rather than tables renamed, so readers are never blocked:
    until this transaction commits they keep seeing the old rows (MVCC).
    """
    for shadow, live in zip(SHADOW.names(), LIVE.names(), strict=True):
        conn.execute(text(f"DELETE FROM {live}"))
        conn.execute(text(f"INSERT INTO {live} SELECT * FROM {shadow}"))
        conn.execute(text(f"DROP TABLE {shadow}"))
