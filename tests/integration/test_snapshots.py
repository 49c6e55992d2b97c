"""Snapshots on PostgreSQL: one per slot, missed slots caught up, retention, reads from snapshots."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from app.config import Settings
from app.domain.envelope import NewEvent
from app.domain.fold import fold_global
from app.service import DealTracker
from app.snapshots import store
from app.snapshots.schedules import SnapshotConfig, load_config
from app.snapshots.service import global_state, run_due, take
from app.snapshots.state import canonical_json
from app.store import migrate
from app.store.database import make_engine
from app.store.eventstore import EventStore

ROOT = Path(__file__).resolve().parents[2]
SOURCE = {"publisher": "The Ledger", "attribution": "reported"}


def utc(text: str) -> datetime:
    """Return an aware UTC time from `2025-01-10T15:00:00`."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


class Desk:
    """Appends through the service with an injected clock, so recorded_at is chosen by the test."""

    def __init__(self, engine: Engine, start: str = "2025-01-10T08:00:00") -> None:
        self.now = utc(start)
        self.store = EventStore(engine, clock=lambda: self.now)
        self.tracker = DealTracker(self.store, clock=lambda: self.now)

    def at(self, text: str) -> Desk:
        """Set the time the next events are recorded at."""
        self.now = utc(text)
        return self

    def register(self, org_id: str) -> None:
        """Register an organization."""
        data = {"name": org_id.title(), "kind": "company"}
        self.tracker.append(f"org:{org_id}", NewEvent("organization.registered", data))

    def open(self, deal_id: str, investor: str, investee: str) -> None:
        """Open an investment deal."""
        parties = {"investor": investor, "investee": investee}
        data = {"kind": "investment", "title": deal_id, "parties": parties}
        self.tracker.append(f"deal:{deal_id}", NewEvent("deal.opened", data, source=SOURCE))

    def invest(self, deal_id: str, amount: int, status: str = "completed") -> Any:
        """Report a tranche in US dollars; return the event."""
        data = {
            "status": status,
            "amount_basis": "tranche",
            "amount": {"amount": str(amount), "currency": "USD"},
        }
        event = NewEvent("investment.reported", data, self.now, "instant", SOURCE)
        return self.tracker.append(f"deal:{deal_id}", event).events[0]


def replay(engine: Engine, known_at: datetime | None = None) -> str:
    """Return the global state a full replay of the log gives, as canonical JSON."""
    events = list(EventStore(engine).iter_all())
    return canonical_json(fold_global(events, known_at=known_at, with_history=False))


@pytest.fixture
def fresh_engine(fresh_database_url: str) -> Iterator[Engine]:
    """An engine on a database of its own."""
    engine = make_engine(fresh_database_url, Settings())
    yield engine
    engine.dispose()


def hourly(retention: str = "") -> SnapshotConfig:
    return load_config(
        Settings(snapshot_schedules="hourly=0 * * * *", snapshot_retention=retention)
    )


def test_run_due_after_three_missed_slots_takes_all_three_late_each_equal_to_a_known_at_replay(
    fresh_engine: Engine,
) -> None:
    config = hourly()
    desk = Desk(fresh_engine, "2025-01-10T08:30:00")
    for org in ("helix", "nova"):
        desk.register(org)
    desk.open("helix-nova", "helix", "nova")
    desk.invest("helix-nova", 1_000)
    first = run_due(fresh_engine, config, now=utc("2025-01-10T09:00:20"))
    assert [(t.slot, t.late) for t in first.taken] == [(utc("2025-01-10T09:00:00"), False)]

    tranche = desk.at("2025-01-10T09:30:00").invest("helix-nova", 2_000)
    desk.at("2025-01-10T10:30:00").invest("helix-nova", 3_000, status="in_talks")
    desk.at("2025-01-10T11:15:00").tracker.correct(
        tranche.event_id, {"amount": {"amount": "2500", "currency": "USD"}}, "typo"
    )
    desk.at("2025-01-10T12:10:00").invest("helix-nova", 4_000)

    run = run_due(fresh_engine, config, now=utc("2025-01-10T12:40:00"))

    slots = [utc(f"2025-01-10T{hour}:00:00") for hour in (10, 11, 12)]
    assert [t.slot for t in run.taken] == slots
    assert all(t.id is not None and t.late for t in run.taken)
    for taken in run.taken:
        assert taken.id is not None and taken.slot is not None
        found = store.get(fresh_engine, taken.id)
        assert found is not None
        info, state = found
        assert (info.schedule, info.slot, info.known_at, info.late) == (
            "hourly",
            taken.slot,
            taken.slot,
            True,
        )
        assert canonical_json(state) == replay(fresh_engine, known_at=taken.slot)
    assert run_due(fresh_engine, config, now=utc("2025-01-10T12:45:00")).taken == []


def test_two_run_due_processes_racing_for_one_slot_make_one_snapshot(
    fresh_engine: Engine, fresh_database_url: str
) -> None:
    desk = Desk(fresh_engine, "2025-01-10T14:00:00")
    desk.register("helix")
    env = {
        **os.environ,
        "DATABASE_URL": fresh_database_url,
        "SNAPSHOT_SCHEDULES": "daily=0 0 * * *",
        "SNAPSHOT_TIMEZONE": "Asia/Seoul",
        "LOCK_TIMEOUT_MS": "30000",
    }
    command = [sys.executable, "-m", "app.cli", "snapshots", "run-due"]
    command += ["--now", "2025-01-10T15:00:30Z"]
    with fresh_engine.begin() as conn:
        # Holding the append lock stops both racers after they found the slot due.
        desk.store.lock(conn)
        racers = [
            subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True)
            for _ in range(2)
        ]
        _wait_for_lock_waiters(fresh_engine, 2)
    outputs = [racer.communicate(timeout=60)[0] for racer in racers]

    assert [racer.returncode for racer in racers] == [0, 0]
    with fresh_engine.connect() as conn:
        rows = conn.execute(text("SELECT schedule, slot FROM snapshots")).all()
    # Seoul's midnight of 11 January is 15:00 UTC on the 10th.
    assert rows == [("daily", utc("2025-01-10T15:00:00"))]
    assert sorted("already taken" in output for output in outputs) == [False, True], outputs


def _wait_for_lock_waiters(engine: Engine, count: int) -> None:
    deadline = time.monotonic() + 20
    sql = text(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    )
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            if conn.execute(sql).scalar_one() >= count:
                return
        time.sleep(0.05)
    raise AssertionError(f"{count} processes never waited for the append lock")


def test_the_same_slot_inserted_twice_is_stored_once(fresh_engine: Engine) -> None:
    slot = utc("2025-01-10T00:00:00")
    row = dict(taken_at=slot, position=0, known_at=slot, fold_schema_version=1, late=False)
    state = {"position": 0, "organizations": {}, "deals": {}}
    with fresh_engine.begin() as conn:
        first = store.insert(conn, schedule="daily", slot=slot, state=state, **row)
        second = store.insert(conn, schedule="daily", slot=slot, state=state, **row)
    assert first is not None and second is None


def test_retention_deletes_only_what_is_older_than_each_schedule_keeps(
    fresh_engine: Engine,
) -> None:
    config = hourly("hourly=3h;manual=1d")
    Desk(fresh_engine, "2025-01-09T23:00:00").register("helix")
    for hour in range(6):
        run_due(fresh_engine, config, now=utc(f"2025-01-10T0{hour}:00:10"))
    old_manual = take(fresh_engine, now=utc("2025-01-08T00:00:00"))
    recent_manual = take(fresh_engine, now=utc("2025-01-10T04:00:00"))
    with fresh_engine.begin() as conn:
        slot = utc("2024-01-01T00:00:00")
        unconfigured = store.insert(
            conn,
            schedule="weekly",
            slot=slot,
            taken_at=slot,
            position=0,
            known_at=slot,
            fold_schema_version=1,
            late=False,
            state={"position": 0, "organizations": {}, "deals": {}},
        )

    run = run_due(fresh_engine, config, now=utc("2025-01-10T05:10:00"))

    assert run.taken == [] and run.deleted == 1
    with fresh_engine.connect() as conn:
        kept = {(k.schedule, k.slot) for k in store.kept(conn)}
    assert kept == {
        ("hourly", utc("2025-01-10T03:00:00")),
        ("hourly", utc("2025-01-10T04:00:00")),
        ("hourly", utc("2025-01-10T05:00:00")),
        (None, None),
        ("weekly", utc("2024-01-01T00:00:00")),
    }
    ids = {info.id for info in store.listing(fresh_engine)}
    assert old_manual.id not in ids and {recent_manual.id, unconfigured} <= ids


def test_global_reads_start_from_the_nearest_snapshot_and_equal_a_full_replay(
    fresh_engine: Engine,
) -> None:
    desk = Desk(fresh_engine, "2025-01-10T08:00:00")
    for org in ("helix", "nova", "orbit"):
        desk.register(org)
    desk.open("helix-nova", "helix", "nova")
    desk.open("orbit-nova", "orbit", "nova")
    desk.at("2025-01-10T08:10:00").invest("helix-nova", 1_000)
    snapshot = take(fresh_engine, now=utc("2025-01-10T09:00:00"))
    desk.at("2025-01-10T10:00:00").invest("helix-nova", 2_000)
    desk.at("2025-01-10T11:00:00").register("zenith")

    now = global_state(fresh_engine)
    earlier = global_state(fresh_engine, known_at=utc("2025-01-10T10:30:00"))

    assert now.base_id == snapshot.id and now.refolded == 2
    assert canonical_json(now.state) == replay(fresh_engine)
    assert earlier.base_id == snapshot.id and earlier.refolded == 1
    assert canonical_json(earlier.state) == replay(fresh_engine, utc("2025-01-10T10:30:00"))
    before = global_state(fresh_engine, known_at=utc("2025-01-10T08:05:00"))
    assert before.base_id is None and before.position == 5
    assert canonical_json(before.state) == replay(fresh_engine, utc("2025-01-10T08:05:00"))
    assert snapshot.known_at == utc("2025-01-10T09:00:00")


def test_migration_0004_goes_down_and_up_with_the_procrastinate_schema(
    fresh_engine: Engine,
) -> None:
    tables = text(
        "SELECT count(*) FROM pg_tables WHERE tablename = 'snapshots'"
        " OR tablename LIKE 'procrastinate%'"
    )
    with fresh_engine.connect() as conn:
        assert conn.execute(tables).scalar_one() == 5
    migrate.downgrade(fresh_engine, "0003")
    with fresh_engine.connect() as conn:
        assert conn.execute(tables).scalar_one() == 0
        functions = "SELECT count(*) FROM pg_proc WHERE proname LIKE 'procrastinate%'"
        assert conn.execute(text(functions)).scalar_one() == 0
    migrate.upgrade(fresh_engine)
    assert migrate.is_at_head(fresh_engine)
