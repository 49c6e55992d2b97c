"""Metrics read from the database at scrape time: snapshot freshness and failed jobs."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger(__name__)

_TABLES = text(
    "SELECT to_regclass('snapshots') IS NOT NULL, to_regclass('procrastinate_jobs') IS NOT NULL"
)
_NEWEST_SNAPSHOTS = text(
    "SELECT schedule, extract(epoch FROM now() - max(taken_at))"
    " FROM snapshots WHERE schedule IS NOT NULL GROUP BY schedule ORDER BY schedule"
)
_FAILED_JOBS = text(
    "SELECT task_name, count(*) FROM procrastinate_jobs"
    " WHERE status = 'failed' GROUP BY task_name ORDER BY task_name"
)


class SnapshotsAndJobs(Collector):
    """Age of the newest snapshot per schedule and failed procrastinate jobs per task."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """Query both now; a missing table or an unreachable database yields nothing."""
        age = GaugeMetricFamily(
            "dealtracker_snapshot_newest_age_seconds",
            "Seconds since the newest snapshot of each schedule was taken",
            labels=["schedule"],
        )
        failed = GaugeMetricFamily(
            "dealtracker_jobs_failed",
            "procrastinate jobs whose last attempt failed, by task",
            labels=["task"],
        )
        try:
            with self.engine.connect() as conn:
                has_snapshots, has_jobs = conn.execute(_TABLES).one()
                snapshot_rows = conn.execute(_NEWEST_SNAPSHOTS).all() if has_snapshots else []
                job_rows = conn.execute(_FAILED_JOBS).all() if has_jobs else []
        except SQLAlchemyError as error:
            # /metrics must answer even when the database does not; readyz reports that.
            log.warning("snapshot and job metrics unavailable: %s", type(error).__name__)
            return
        for schedule, seconds in snapshot_rows:
            age.add_metric([schedule], float(seconds))
        for task, count in job_rows:
            failed.add_metric([task], int(count))
        yield age
        yield failed
