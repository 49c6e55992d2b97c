"""Scrape-time metrics: newest snapshot age per schedule, failed jobs, and no failure of their own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from app.config import Settings
from app.metrics_extra import SnapshotsAndJobs
from app.store.database import make_engine
from tests.conftest import Databases


def _scrape(database_url: str) -> dict[str, dict[str, float]]:
    """Return {metric: {label value: value}} as /metrics would show them."""
    engine = make_engine(database_url, Settings())
    registry = CollectorRegistry()
    registry.register(SnapshotsAndJobs(engine))
    try:
        body = generate_latest(registry).decode()
    finally:
        engine.dispose()
    found: dict[str, dict[str, float]] = {}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            label = next(iter(sample.labels.values()), "")
            found.setdefault(sample.name, {})[label] = sample.value
    return found


def test_snapshot_age_is_per_schedule_from_its_newest_snapshot(fresh_database_url: str) -> None:
    engine = make_engine(fresh_database_url, Settings())
    now = datetime.now(UTC)
    with engine.begin() as conn:
        for schedule, hours_ago in (("daily", 30), ("daily", 6), ("hourly", 1)):
            taken = now - timedelta(hours=hours_ago)
            conn.execute(
                text(
                    "INSERT INTO snapshots (schedule, slot, taken_at, position, known_at,"
                    " fold_schema_version, state, size) VALUES (:s, :t, :t, 0, :t, 1, '', 0)"
                ),
                {"s": schedule, "t": taken},
            )
    engine.dispose()
    ages = _scrape(fresh_database_url)["dealtracker_snapshot_newest_age_seconds"]
    assert set(ages) == {"daily", "hourly"}
    assert 6 * 3600 <= ages["daily"] < 6 * 3600 + 60
    assert 3600 <= ages["hourly"] < 3600 + 60


def test_failed_jobs_are_counted_by_task(fresh_database_url: str) -> None:
    engine = make_engine(fresh_database_url, Settings())
    with engine.begin() as conn:
        for task, status in (("snapshot", "failed"), ("snapshot", "failed"), ("retain", "todo")):
            conn.execute(
                text(
                    "INSERT INTO procrastinate_jobs (queue_name, task_name, status)"
                    " VALUES ('default', :t, CAST(:s AS procrastinate_job_status))"
                ),
                {"t": task, "s": status},
            )
    engine.dispose()
    assert _scrape(fresh_database_url)["dealtracker_jobs_failed"] == {"snapshot": 2.0}


def test_a_database_without_the_tables_scrapes_empty(databases: Databases) -> None:
    found = _scrape(databases.create())
    assert "dealtracker_snapshot_newest_age_seconds" not in found


def test_an_unreachable_database_does_not_break_the_scrape() -> None:
    assert _scrape("postgresql://nobody@127.0.0.1:1/none") == {}
