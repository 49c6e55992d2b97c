"""Which slots are due and which snapshots retention removes (pure: decisions, no I/O)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from app.snapshots.schedules import Schedule, SnapshotConfig


@dataclass(frozen=True)
class Kept:
    """What retention needs to know about a stored snapshot."""

    id: int
    schedule: str | None
    slot: datetime | None
    taken_at: datetime


def due_slots(schedule: Schedule, last_taken: datetime | None, now: datetime) -> list[datetime]:
    """Return the slots to take now, oldest first.

    Every slot after the last one taken is due (those a stopped worker missed included),
    except slots retention would delete at once. A schedule never taken starts at its
    latest slot: no back-fill before its first run.
    """
    latest = schedule.latest_slot(now)
    if last_taken is None:
        return [latest]
    slots = list(schedule.slots_after(last_taken, now))
    if schedule.keep is not None:
        horizon = now - schedule.keep
        slots = [slot for slot in slots if slot >= horizon or slot == latest]
    return slots


def expired(snapshots: Iterable[Kept], config: SnapshotConfig, now: datetime) -> list[int]:
    """Return the ids of snapshots older than their schedule keeps them.

    The newest snapshot of each schedule stays whatever its age: it marks where the
    schedule got to, so the slots after it are still taken when a worker returns.
    Snapshots of schedules no longer configured are left alone.
    """
    keep = {schedule.name: schedule.keep for schedule in config.schedules}
    by_schedule: dict[str | None, list[Kept]] = {}
    for snapshot in snapshots:
        by_schedule.setdefault(snapshot.schedule, []).append(snapshot)
    doomed: list[int] = []
    for name, group in by_schedule.items():
        if name is None:
            if config.keep_manual is not None:
                horizon = now - config.keep_manual
                doomed += [s.id for s in group if s.taken_at < horizon]
            continue
        period = keep.get(name)
        if period is None:
            continue
        newest = max(group, key=lambda s: (s.slot or s.taken_at, s.id))
        horizon = now - period
        doomed += [s.id for s in group if s is not newest and (s.slot or s.taken_at) < horizon]
    return sorted(doomed)
