"""Snapshot schedules from configuration, and the slots they fall due at (pure: no I/O).

A schedule is a name and a 5-field cron expression read in SNAPSHOT_TIMEZONE, so a Seoul
desk's `0 0 * * *` falls due at 15:00 UTC the day before. A slot is one time a schedule
falls due, always returned in UTC.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from app.config import ConfigError, Settings

# Retention of on-demand snapshots (`snapshots take`, POST /snapshots), which have no schedule.
MANUAL = "manual"
LATE_AFTER = timedelta(minutes=5)
_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
_DURATION = re.compile(r"^(\d+)\s*([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_TINY = timedelta(microseconds=1)


@dataclass(frozen=True)
class Schedule:
    """A named cron expression, read in a time zone, with how long its snapshots are kept."""

    name: str
    cron: str
    zone: ZoneInfo
    keep: timedelta | None = None

    def latest_slot(self, now: datetime) -> datetime:
        """Return the latest slot at or before `now`."""
        local = _aware(now).astimezone(self.zone) + _TINY
        found: datetime = croniter(self.cron, local).get_prev(datetime)
        return found.astimezone(UTC)

    def next_slot(self, after: datetime) -> datetime:
        """Return the first slot strictly after `after`."""
        found: datetime = croniter(self.cron, _aware(after).astimezone(self.zone)).get_next(
            datetime
        )
        return found.astimezone(UTC)

    def slots_after(self, after: datetime, now: datetime) -> Iterator[datetime]:
        """Yield the slots in (after, now], oldest first."""
        iterator = croniter(self.cron, _aware(after).astimezone(self.zone))
        while True:
            slot = iterator.get_next(datetime).astimezone(UTC)
            if slot > _aware(now):
                return
            yield slot

    def is_late(self, slot: datetime, taken_at: datetime) -> bool:
        """Tell whether a snapshot taken at `taken_at` missed its slot (by five minutes, or half the period)."""
        grace = min(LATE_AFTER, (self.next_slot(slot) - slot) / 2)
        return _aware(taken_at) - slot > grace

    def wakeup_cron(self) -> str:
        """Return a cron in UTC (procrastinate's) that fires at every slot of this schedule."""
        if self.zone.key == "UTC":
            return self.cron
        minute = self.cron.split()[0]
        # A zone a whole number of hours from UTC keeps the minute; others need every minute.
        if all(_whole_hours(self.zone, month) for month in (1, 4, 7, 10)):
            return f"{minute} * * * *"
        return "* * * * *"


@dataclass(frozen=True)
class SnapshotConfig:
    """Every schedule, and how long on-demand snapshots are kept."""

    schedules: tuple[Schedule, ...]
    zone: ZoneInfo
    keep_manual: timedelta | None = None

    def get(self, name: str) -> Schedule:
        """Return the schedule with that name, or raise ConfigError."""
        for schedule in self.schedules:
            if schedule.name == name:
                return schedule
        known = ", ".join(s.name for s in self.schedules) or "none configured"
        raise ConfigError(f"there is no snapshot schedule {name!r} (SNAPSHOT_SCHEDULES: {known})")


def load_config(settings: Settings) -> SnapshotConfig:
    """Read SNAPSHOT_SCHEDULES, SNAPSHOT_TIMEZONE and SNAPSHOT_RETENTION, refusing bad values."""
    zone = parse_zone(settings.snapshot_timezone)
    crons = parse_schedules(settings.snapshot_schedules)
    retention = parse_retention(settings.snapshot_retention)
    unknown = sorted(set(retention) - set(crons) - {MANUAL})
    if unknown:
        raise ConfigError(
            f"SNAPSHOT_RETENTION names {', '.join(unknown)}, which SNAPSHOT_SCHEDULES does not define"
        )
    schedules = tuple(
        Schedule(name, cron, zone, retention.get(name)) for name, cron in crons.items()
    )
    return SnapshotConfig(schedules, zone, retention.get(MANUAL))


def parse_zone(raw: str) -> ZoneInfo:
    """Return the IANA time zone named by SNAPSHOT_TIMEZONE."""
    name = (raw or "UTC").strip()
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"SNAPSHOT_TIMEZONE must be an IANA time zone such as UTC or Asia/Seoul, not {raw!r}"
        ) from None


def parse_schedules(raw: str) -> dict[str, str]:
    """Parse `name=cron;name=cron` into {name: cron}."""
    schedules: dict[str, str] = {}
    for name, value in _pairs("SNAPSHOT_SCHEDULES", raw).items():
        fields = value.split()
        if len(fields) != 5 or not croniter.is_valid(" ".join(fields)):
            raise ConfigError(
                f"SNAPSHOT_SCHEDULES: {name}={value!r} is not a cron expression of 5 fields "
                "(minute hour day-of-month month day-of-week), e.g. daily=0 0 * * *"
            )
        schedules[name] = " ".join(fields)
    if MANUAL in schedules:
        raise ConfigError(f"SNAPSHOT_SCHEDULES: {MANUAL!r} is reserved for on-demand snapshots")
    return schedules


def parse_retention(raw: str) -> dict[str, timedelta]:
    """Parse `name=90d;name=48h` (units m, h, d, w) into {name: how long to keep}."""
    retention: dict[str, timedelta] = {}
    for name, value in _pairs("SNAPSHOT_RETENTION", raw).items():
        match = _DURATION.match(value.strip().lower())
        if match is None or int(match.group(1)) == 0:
            raise ConfigError(
                f"SNAPSHOT_RETENTION: {name}={value!r} is not a duration like 90d, 48h, 30m or 2w"
            )
        retention[name] = timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    return retention


def _pairs(setting: str, raw: str) -> Mapping[str, str]:
    """Split `a=x;b=y` (or one pair a line) into {name: value}, checking the names."""
    pairs: dict[str, str] = {}
    for item in re.split(r"[;\n]", raw or ""):
        if not item.strip():
            continue
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not value.strip():
            raise ConfigError(f"{setting}: {item.strip()!r} is not name=value")
        if not _NAME.match(name):
            raise ConfigError(
                f"{setting}: {name!r} is not a name (lower-case letters, digits, - and _)"
            )
        if name in pairs:
            raise ConfigError(f"{setting}: {name!r} appears twice")
        pairs[name] = value.strip()
    return pairs


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("datetime must be timezone-aware")
    return value.astimezone(UTC)


def _whole_hours(zone: ZoneInfo, month: int) -> bool:
    offset = datetime(datetime.now(UTC).year, month, 1, tzinfo=zone).utcoffset() or timedelta()
    return offset % timedelta(hours=1) == timedelta()
