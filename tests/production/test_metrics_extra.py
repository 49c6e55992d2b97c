"""Scrape-time metrics: newest snapshot age per schedule, failed jobs, and no failure of their own."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, create_engine, text

from app.config import Settings
from app.metrics_extra import SnapshotsAndJobs
from app.store.database import make_engine, sqlalchemy_url
from tests.conftest import Databases, new_id


@pytest.fixture(scope="module")
def own_engine(databases: Databases) -> Iterator[Engine]:
    """An engine on a database of this module's own: its snapshots are not real ones."""
    engine = make_engine(databases.migrated(), Settings())
    yield engine
    engine.dispose()


def _scrape(engine: Engine) -> dict[str, dict[str, float]]:
    """Return {metric: {label value: value}} as /metrics would show them."""
    registry = CollectorRegistry()
    registry.register(SnapshotsAndJobs(engine))
    found: dict[str, dict[str, float]] = {}
    for family in text_string_to_metric_families(generate_latest(registry).decode()):
        for sample in family.samples:
            label = next(iter(sample.labels.values()), "")
            found.setdefault(sample.name, {})[label] = sample.value
    return found


def test_snapshot_age_is_per_schedule_from_its_newest_snapshot(own_engine: Engine) -> None:
    daily, hourly = new_id("daily"), new_id("hourly")
    now = datetime.now(UTC)
    with own_engine.begin() as conn:
        for schedule, hours_ago in ((daily, 30), (daily, 6), (hourly, 1)):
            taken = now - timedelta(hours=hours_ago)
            conn.execute(
                text(
                    "INSERT INTO snapshots (schedule, slot, taken_at, position, known_at,"
                    " fold_schema_version, state, size) VALUES (:s, :t, :t, 0, :t, 1, '', 0)"
                ),
                {"s": schedule, "t": taken},
            )
    ages = _scrape(own_engine)["dealtracker_snapshot_newest_age_seconds"]
    assert 6 * 3600 <= ages[daily] < 6 * 3600 + 60
    assert 3600 <= ages[hourly] < 3600 + 60


def test_failed_jobs_are_counted_by_task(own_engine: Engine) -> None:
    failing, pending = new_id("task"), new_id("task")
    with own_engine.begin() as conn:
        for task, status in ((failing, "failed"), (failing, "failed"), (pending, "todo")):
            conn.execute(
                text(
                    "INSERT INTO procrastinate_jobs (queue_name, task_name, status)"
                    " VALUES ('default', :t, CAST(:s AS procrastinate_job_status))"
                ),
                {"t": task, "s": status},
            )
    failed = _scrape(own_engine)["dealtracker_jobs_failed"]
    assert failed[failing] == 2.0
    assert pending not in failed


def test_a_database_without_the_tables_scrapes_empty(database_url: str) -> None:
    # A search path with no tables in it stands for a database not migrated yet.
    engine = create_engine(
        sqlalchemy_url(database_url), connect_args={"options": "-c search_path=nowhere"}
    )
    try:
        found = _scrape(engine)
    finally:
        engine.dispose()
    assert "dealtracker_snapshot_newest_age_seconds" not in found


def test_an_unreachable_database_does_not_break_the_scrape() -> None:
    engine = make_engine("postgresql://nobody@127.0.0.1:1/none", Settings())
    assert _scrape(engine) == {}
