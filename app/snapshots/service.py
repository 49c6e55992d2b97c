"""Take snapshots, take every due slot, apply retention, and read the global state fast."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, text

from app.domain.envelope import RecordedEvent, utc
from app.domain.fold import FOLD_SCHEMA_VERSION
from app.progress import Progress
from app.snapshots import store
from app.snapshots.plan import due_slots, expired
from app.snapshots.schedules import SnapshotConfig
from app.snapshots.state import advance
from app.store.eventstore import EventStore

ProgressFactory = Callable[[str, int], Progress]


@dataclass(frozen=True)
class GlobalState:
    """Every organization's and deal's state at one position, and what it was computed from."""

    position: int
    state: dict[str, Any]
    base_id: int | None = None
    refolded: int = 0


@dataclass(frozen=True)
class Taken:
    """The outcome of taking one snapshot: its id, or None when another process took that slot."""

    id: int | None
    schedule: str | None
    slot: datetime | None
    known_at: datetime
    late: bool
    computed: GlobalState | None


@dataclass
class DueRun:
    """What a run of the due slots did."""

    taken: list[Taken] = field(default_factory=list)
    deleted: int = 0


def global_state(
    engine: Engine,
    *,
    known_at: datetime | None = None,
    position: int | None = None,
    base: GlobalState | None = None,
    progress: Progress | None = None,
) -> GlobalState:
    """Return the global state (now, as known at a time, or at a position) from the nearest snapshot and the events after it."""
    with engine.connect() as conn:
        target = position if position is not None else store.position_at(conn, known_at)
        if base is None or base.position > target:
            found = store.nearest(conn, target, FOLD_SCHEMA_VERSION)
            base = None if found is None else GlobalState(found[0].position, found[1], found[0].id)
        after = 0 if base is None else base.position
        if base is not None and after == target:
            return base
        if progress is not None:
            progress.total = store.count_changed_streams(conn, after, target)
    counted = _Counted(store.changed_streams(engine, after, target), progress)
    state = advance(None if base is None else base.state, counted, target)
    if progress is not None:
        progress.finish()
    return GlobalState(target, state, None if base is None else base.base_id, counted.count)


def take(
    engine: Engine,
    *,
    schedule: str | None = None,
    slot: datetime | None = None,
    now: datetime | None = None,
    late: bool = False,
    base: GlobalState | None = None,
    progress: Progress | None = None,
    lock_timeout_ms: int = 5000,
) -> Taken:
    """Take one snapshot: of a schedule's slot (known_at = the slot), or on demand (known_at = now)."""
    with engine.begin() as conn:
        # Holding the append lock, every event recorded by `known_at` is committed.
        EventStore(engine, lock_timeout_ms=lock_timeout_ms).lock(conn)
        database_now: datetime = conn.execute(text("SELECT clock_timestamp()")).scalar_one()
        taken_at = utc(now) if now is not None else database_now
        known_at = utc(slot) if slot is not None else taken_at
        if schedule is not None and slot is not None and store.is_taken(conn, schedule, slot):
            return Taken(None, schedule, slot, known_at, late, None)
        position = store.position_at(conn, known_at)
    computed = global_state(engine, position=position, base=base, progress=progress)
    with engine.begin() as conn:
        snapshot_id = store.insert(
            conn,
            schedule=schedule,
            slot=slot,
            taken_at=taken_at,
            position=computed.position,
            known_at=known_at,
            fold_schema_version=FOLD_SCHEMA_VERSION,
            late=late,
            state=computed.state,
        )
    return Taken(snapshot_id, schedule, slot, known_at, late, computed)


def run_due(
    engine: Engine,
    config: SnapshotConfig,
    *,
    now: datetime | None = None,
    names: Sequence[str] | None = None,
    progress: ProgressFactory | None = None,
    lock_timeout_ms: int = 5000,
) -> DueRun:
    """Take every due slot not yet taken (missed ones marked late), then apply retention; safe to run concurrently."""
    now = utc(now) if now is not None else datetime.now(UTC)
    run = DueRun()
    for schedule in config.schedules:
        if names is not None and schedule.name not in names:
            continue
        with engine.connect() as conn:
            slots = due_slots(schedule, store.last_slot(conn, schedule.name), now)
            # A slot later than the database's clock may still gain events: not due yet.
            database_now = _database_now(conn)
            slots = [slot for slot in slots if slot <= database_now]
        meter = (
            progress(f"snapshots {schedule.name}", len(slots)) if progress and slots[1:] else None
        )
        base: GlobalState | None = None
        for slot in slots:
            taken = take(
                engine,
                schedule=schedule.name,
                slot=slot,
                now=now,
                late=schedule.is_late(slot, now),
                base=base,
                lock_timeout_ms=lock_timeout_ms,
            )
            base = taken.computed or base
            run.taken.append(taken)
            if meter is not None:
                meter.advance()
        if meter is not None:
            meter.finish()
    run.deleted = apply_retention(engine, config, now=now)
    return run


def apply_retention(engine: Engine, config: SnapshotConfig, *, now: datetime | None = None) -> int:
    """Delete the snapshots each schedule's retention no longer keeps; return how many."""
    now = utc(now) if now is not None else datetime.now(UTC)
    with engine.begin() as conn:
        return store.delete(conn, expired(store.kept(conn), config, now))


def _database_now(conn: Connection) -> datetime:
    found: datetime = conn.execute(text("SELECT clock_timestamp()")).scalar_one()
    return found


class _Counted:
    """Pass streams through, counting them and advancing a progress meter."""

    def __init__(
        self, streams: Iterator[tuple[str, list[RecordedEvent]]], progress: Progress | None
    ) -> None:
        self.streams = streams
        self.progress = progress
        self.count = 0

    def __iter__(self) -> Iterator[tuple[str, list[RecordedEvent]]]:
        for item in self.streams:
            self.count += 1
            if self.progress is not None:
                self.progress.advance()
            yield item
