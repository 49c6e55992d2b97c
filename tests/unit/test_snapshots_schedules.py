"""Snapshot schedules: configuration, slots in a time zone, what is due, what retention removes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.config import ConfigError, Settings
from app.snapshots.plan import Kept, due_slots, expired
from app.snapshots.schedules import Schedule, SnapshotConfig, load_config

SEOUL = ZoneInfo("Asia/Seoul")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def config(**env: str) -> SnapshotConfig:
    return load_config(
        Settings(
            snapshot_schedules=env.get("schedules", ""),
            snapshot_timezone=env.get("zone", "UTC"),
            snapshot_retention=env.get("retention", ""),
        )
    )


def test_seoul_midnight_is_three_in_the_afternoon_utc_the_day_before() -> None:
    daily = config(schedules="daily=0 0 * * *", zone="Asia/Seoul").get("daily")
    assert daily.latest_slot(utc("2025-01-10T15:00:00")) == utc("2025-01-10T15:00:00")
    assert daily.latest_slot(utc("2025-01-10T14:59:59")) == utc("2025-01-09T15:00:00")
    assert daily.latest_slot(utc("2025-01-11T03:00:00")) == utc("2025-01-10T15:00:00")


def test_configuration_reads_schedules_zone_and_retention() -> None:
    read = config(
        schedules="daily=0 0 * * *; hourly=0 * * * *",
        zone="Asia/Seoul",
        retention="daily=90d;hourly=48h;manual=2w",
    )
    assert [(s.name, s.cron, s.keep) for s in read.schedules] == [
        ("daily", "0 0 * * *", timedelta(days=90)),
        ("hourly", "0 * * * *", timedelta(hours=48)),
    ]
    assert read.zone == SEOUL
    assert read.keep_manual == timedelta(weeks=2)
    assert config().schedules == ()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"schedules": "daily=0 0 * *"}, "5 fields"),
        ({"schedules": "daily=0 0 * * * *"}, "5 fields"),
        ({"schedules": "daily=61 0 * * *"}, "5 fields"),
        ({"schedules": "daily"}, "name=value"),
        ({"schedules": "Daily=0 0 * * *"}, "not a name"),
        ({"schedules": "a=0 0 * * *;a=0 1 * * *"}, "twice"),
        ({"schedules": "manual=0 0 * * *"}, "reserved"),
        ({"zone": "Mars/Olympus"}, "IANA time zone"),
        ({"schedules": "daily=0 0 * * *", "retention": "daily=90"}, "duration"),
        ({"schedules": "daily=0 0 * * *", "retention": "daily=0d"}, "duration"),
        ({"schedules": "daily=0 0 * * *", "retention": "weekly=9d"}, "does not define"),
    ],
)
def test_bad_configuration_is_refused_with_a_clear_message(
    env: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        config(**env)


def test_a_schedule_never_taken_starts_at_its_latest_slot_without_back_fill() -> None:
    hourly = Schedule("hourly", "0 * * * *", ZoneInfo("UTC"))
    assert due_slots(hourly, None, utc("2025-01-10T12:30:00")) == [utc("2025-01-10T12:00:00")]


def test_slots_missed_since_the_last_one_taken_are_all_due() -> None:
    hourly = Schedule("hourly", "0 * * * *", ZoneInfo("UTC"))
    last = utc("2025-01-10T09:00:00")
    assert due_slots(hourly, last, utc("2025-01-10T12:30:00")) == [
        utc("2025-01-10T10:00:00"),
        utc("2025-01-10T11:00:00"),
        utc("2025-01-10T12:00:00"),
    ]
    assert due_slots(hourly, utc("2025-01-10T12:00:00"), utc("2025-01-10T12:30:00")) == []


def test_missed_slots_retention_would_delete_at_once_are_not_taken() -> None:
    hourly = Schedule("hourly", "0 * * * *", ZoneInfo("UTC"), keep=timedelta(hours=2))
    slots = due_slots(hourly, utc("2025-01-09T00:00:00"), utc("2025-01-10T12:30:00"))
    assert slots == [utc("2025-01-10T11:00:00"), utc("2025-01-10T12:00:00")]


def test_a_slot_taken_minutes_after_it_fell_due_is_late() -> None:
    daily = Schedule("daily", "0 0 * * *", ZoneInfo("UTC"))
    slot = utc("2025-01-10T00:00:00")
    assert not daily.is_late(slot, slot + timedelta(seconds=40))
    assert daily.is_late(slot, slot + timedelta(minutes=6))
    minutely = Schedule("minutely", "* * * * *", ZoneInfo("UTC"))
    assert minutely.is_late(slot, slot + timedelta(seconds=40))


def test_the_worker_wakes_at_every_slot_whatever_the_zone() -> None:
    assert Schedule("d", "0 0 * * *", ZoneInfo("UTC")).wakeup_cron() == "0 0 * * *"
    assert Schedule("d", "15 0 * * *", SEOUL).wakeup_cron() == "15 * * * *"
    assert Schedule("d", "0 0 * * *", ZoneInfo("Asia/Kolkata")).wakeup_cron() == "* * * * *"


def test_retention_deletes_only_what_is_older_than_its_schedule_keeps() -> None:
    read = config(schedules="hourly=0 * * * *;daily=0 0 * * *", retention="hourly=3h;manual=1d")
    now = utc("2025-01-10T05:10:00")
    hourly = [Kept(h, "hourly", utc(f"2025-01-10T0{h}:00:00"), now) for h in range(6)]
    daily = [Kept(10, "daily", utc("2024-01-01T00:00:00"), now)]
    gone = [Kept(20, "weekly", utc("2024-01-01T00:00:00"), now)]
    manual = [
        Kept(30, None, None, now - timedelta(days=2)),
        Kept(31, None, None, now - timedelta(hours=2)),
    ]
    assert expired([*hourly, *daily, *gone, *manual], read, now) == [0, 1, 2, 30]


def test_retention_keeps_the_newest_snapshot_of_a_schedule_however_old() -> None:
    read = config(schedules="daily=0 0 * * *", retention="daily=1h")
    now = utc("2025-01-10T05:00:00")
    snapshots = [Kept(1, "daily", utc("2025-01-08T00:00:00"), now)]
    snapshots.append(Kept(2, "daily", utc("2025-01-09T00:00:00"), now))
    assert expired(snapshots, read, now) == [1]
