"""The `snapshots` table, and the reads of the event log a snapshot needs."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, text

from app.domain.envelope import RecordedEvent, iso
from app.snapshots.plan import Kept
from app.snapshots.state import decode_state, encode_state
from app.store.eventstore import _COLUMNS, decode

_META = "id, schedule, slot, taken_at, position, known_at, fold_schema_version, late, size"


@dataclass(frozen=True)
class SnapshotInfo:
    """A stored snapshot's basis: everything but the state it holds."""

    id: int
    schedule: str | None
    slot: datetime | None
    taken_at: datetime
    position: int
    known_at: datetime
    fold_schema_version: int
    late: bool
    size: int

    def to_json(self) -> dict[str, Any]:
        """Return the JSON-ready form."""
        return {
            "id": self.id,
            "schedule": self.schedule,
            "slot": iso(self.slot),
            "taken_at": iso(self.taken_at),
            "position": self.position,
            "known_at": iso(self.known_at),
            "fold_schema_version": self.fold_schema_version,
            "late": self.late,
            "size": self.size,
        }


def insert(
    conn: Connection,
    *,
    schedule: str | None,
    slot: datetime | None,
    taken_at: datetime,
    position: int,
    known_at: datetime,
    fold_schema_version: int,
    late: bool,
    state: dict[str, Any],
) -> int | None:
    """Store a snapshot and return its id, or None when its slot is already taken."""
    stored, size = encode_state(state)
    row = conn.execute(
        text(
            "INSERT INTO snapshots (schedule, slot, taken_at, position, known_at,"
            " fold_schema_version, late, state, size)"
            " VALUES (:schedule, :slot, :taken_at, :position, :known_at, :version, :late, :state, :size)"
            " ON CONFLICT (schedule, slot) DO NOTHING RETURNING id"
        ),
        {
            "schedule": schedule,
            "slot": slot,
            "taken_at": taken_at,
            "position": position,
            "known_at": known_at,
            "version": fold_schema_version,
            "late": late,
            "state": stored,
            "size": size,
        },
    ).first()
    return None if row is None else int(row[0])


def is_taken(conn: Connection, schedule: str, slot: datetime) -> bool:
    """Tell whether a schedule's slot has a snapshot."""
    sql = text("SELECT 1 FROM snapshots WHERE schedule = :s AND slot = :slot")
    return conn.execute(sql, {"s": schedule, "slot": slot}).first() is not None


def last_slot(conn: Connection, schedule: str) -> datetime | None:
    """Return the newest slot a schedule has a snapshot for."""
    sql = text("SELECT max(slot) FROM snapshots WHERE schedule = :s")
    found: datetime | None = conn.execute(sql, {"s": schedule}).scalar_one()
    return found


def nearest(
    conn: Connection, position: int, fold_schema_version: int
) -> tuple[SnapshotInfo, dict[str, Any]] | None:
    """Return the newest snapshot at or before a position folded by this fold schema version."""
    row = (
        conn.execute(
            text(
                f"SELECT {_META}, state FROM snapshots WHERE fold_schema_version = :v"
                " AND position <= :p ORDER BY position DESC, id DESC LIMIT 1"
            ),
            {"v": fold_schema_version, "p": position},
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    return _info(row), decode_state(row["state"])


def get(engine: Engine, snapshot_id: int) -> tuple[SnapshotInfo, dict[str, Any]] | None:
    """Return a snapshot's basis and state, or None."""
    with engine.connect() as conn:
        row = (
            conn.execute(
                text(f"SELECT {_META}, state FROM snapshots WHERE id = :id"), {"id": snapshot_id}
            )
            .mappings()
            .first()
        )
    return None if row is None else (_info(row), decode_state(row["state"]))


def info(engine: Engine, snapshot_id: int) -> SnapshotInfo | None:
    """Return a snapshot's basis without its state, or None."""
    with engine.connect() as conn:
        sql = text(f"SELECT {_META} FROM snapshots WHERE id = :id")
        row = conn.execute(sql, {"id": snapshot_id}).mappings().first()
    return None if row is None else _info(row)


def listing(engine: Engine, *, limit: int = 50, before: int | None = None) -> list[SnapshotInfo]:
    """Return snapshots newest first (by id), after a cursor."""
    clause = "" if before is None else "WHERE id < :before"
    sql = text(f"SELECT {_META} FROM snapshots {clause} ORDER BY id DESC LIMIT :limit")
    with engine.connect() as conn:
        rows = conn.execute(sql, {"limit": limit, "before": before}).mappings()
        return [_info(row) for row in rows]


def kept(conn: Connection) -> list[Kept]:
    """Return what retention needs of every snapshot."""
    rows = conn.execute(text("SELECT id, schedule, slot, taken_at FROM snapshots")).mappings()
    return [Kept(r["id"], r["schedule"], r["slot"], r["taken_at"]) for r in rows]


def delete(conn: Connection, ids: Sequence[int]) -> int:
    """Delete snapshots by id and return how many went."""
    if not ids:
        return 0
    result = conn.execute(text("DELETE FROM snapshots WHERE id = ANY(:ids)"), {"ids": list(ids)})
    return int(result.rowcount or 0)


def position_at(conn: Connection, known_at: datetime | None) -> int:
    """Return the last position recorded at or before `known_at` (the head when None)."""
    if known_at is None:
        sql, params = "SELECT coalesce(max(position), 0) FROM events", {}
    else:
        sql = "SELECT coalesce(max(position), 0) FROM events WHERE recorded_at <= :t"
        params = {"t": known_at}
    return int(conn.execute(text(sql), params).scalar_one())


def changed_streams(
    engine: Engine, after: int, up_to: int, batch_size: int = 2000
) -> Iterator[tuple[str, list[RecordedEvent]]]:
    """Yield each stream with events in (after, up_to], with all its events up to `up_to`."""
    where = "position <= :up_to"
    if after > 0:
        where += (
            " AND stream_id IN (SELECT DISTINCT stream_id FROM events"
            " WHERE position > :after AND position <= :up_to)"
        )
    sql = text(f"SELECT {_COLUMNS} FROM events WHERE {where} ORDER BY stream_id, version")
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, max_row_buffer=batch_size).execute(
            sql, {"after": after, "up_to": up_to}
        )
        current: str | None = None
        bucket: list[RecordedEvent] = []
        for partition in result.mappings().partitions(batch_size):
            for row in partition:
                if row["stream_id"] != current:
                    if current is not None:
                        yield current, bucket
                    current, bucket = row["stream_id"], []
                bucket.append(decode(row))
        if current is not None:
            yield current, bucket


def count_changed_streams(conn: Connection, after: int, up_to: int) -> int:
    """Return how many streams have events in (after, up_to]."""
    sql = text(
        "SELECT count(DISTINCT stream_id) FROM events WHERE position > :after AND position <= :up_to"
    )
    return int(conn.execute(sql, {"after": after, "up_to": up_to}).scalar_one())


def _info(row: Any) -> SnapshotInfo:
    return SnapshotInfo(**{name: row[name] for name in _META.split(", ")})
