"""An append in a transaction of its own, pipelined: two network round trips instead of six.

EventStore.append without a caller's transaction used to run BEGIN, the lock, the read of
the head and versions, the INSERT and COMMIT one after another through SQLAlchemy, each
waiting for its answer. psycopg's pipeline mode sends BEGIN, the lock, the id lookup and
the head/versions read together (the server runs them in order, each statement with a
snapshot taken after the lock), then the INSERT with the COMMIT. The rules are the same
code as the transactional path: EventStore.plan_rows, originals_of, _recorded_at.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg.types.json import Jsonb
from sqlalchemy.exc import DBAPIError

from app.domain.envelope import NewEvent
from app.store.errors import StoreBusy

if TYPE_CHECKING:
    from app.store.eventstore import AppendResult, EventStore

Writes = Sequence[tuple[str, Sequence[NewEvent], int | None]]
_INSERT_COLUMNS = (
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
_INSERT = (
    f"INSERT INTO events ({', '.join(_INSERT_COLUMNS)})"
    f" VALUES ({', '.join(['%s'] * len(_INSERT_COLUMNS))})"
)


def append_pipelined(
    store: EventStore, writes: Writes, recorded_at: datetime | None
) -> AppendResult:
    """Append to several streams in one transaction of its own: all of it or nothing."""
    from app.store.eventstore import (
        _COLUMNS,
        HEAD_AND_VERSIONS,
        AppendResult,
        _recorded,
        decode,
        event_ids,
        head_and_versions,
        originals_of,
    )

    flat = [(stream_id, event) for stream_id, batch, _ in writes for event in batch]
    if not flat:
        return AppendResult([], created=False)
    ids = event_ids(flat)
    stream_ids = list(dict.fromkeys(stream_id for stream_id, _, _ in writes))
    with store.engine.connect() as connection:
        driver = connection.connection.driver_connection
        assert isinstance(driver, psycopg.Connection)
        failure: BaseException | None = None
        result: AppendResult | None = None
        # Cursors are closed only after the COMMIT: closing one in the pipeline would wait.
        with driver.pipeline(), driver.cursor() as cursor, driver.cursor() as found:
            try:
                with driver.transaction():
                    cursor.execute(store.lock_statement())
                    if ids:
                        sql = f"SELECT {_COLUMNS} FROM events WHERE event_id = ANY(%(ids)s)"
                        found.execute(sql, {"ids": ids})
                    cursor.execute(HEAD_AND_VERSIONS.format(ids="%(ids)s"), {"ids": stream_ids})
                    row = cursor.fetchone()  # the one wait before the INSERT
                    existing = (
                        originals_of(flat, [decode(_mapping(found, r)) for r in found.fetchall()])
                        if ids
                        else None
                    )
                    if existing is not None:
                        result = AppendResult(existing, created=False)
                    else:
                        assert row is not None
                        position, head_at, clock, versions = head_and_versions(row, stream_ids)
                        now = store._recorded_at(head_at, recorded_at, clock)
                        rows = store.plan_rows(writes, versions, position, now)
                        values = [_values(r) for r in rows]
                        if len(values) == 1:  # executemany would wait for its own results
                            cursor.execute(_INSERT, values[0])
                        else:
                            cursor.executemany(_INSERT, values)
                        result = AppendResult([_recorded(r) for r in rows], created=True)
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
    assert result is not None
    return result


def _values(row: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(
        Jsonb(row[c]) if c in _JSON_COLUMNS and row[c] is not None else row[c]
        for c in _INSERT_COLUMNS
    )


def _mapping(cursor: psycopg.Cursor[Any], row: Sequence[Any]) -> dict[str, Any]:
    names = [column.name for column in cursor.description or ()]
    return dict(zip(names, row, strict=True))
