"""The procrastinate app: one snapshot task, deferred periodically for each schedule.

procrastinate records each periodic deferral under a unique key (task, schedule,
time), so however many workers run, each wake-up is deferred once; and the
snapshots table's UNIQUE (schedule, slot) makes each slot's snapshot exist once
even if two jobs race for it.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import procrastinate
from sqlalchemy import Engine

from app.config import Settings
from app.snapshots.schedules import SnapshotConfig, load_config
from app.snapshots.service import run_due
from app.store.database import libpq_url, make_engine, resolve_database_url

RUN_DUE_TASK = "snapshots.run_due"
log = logging.getLogger(__name__)


def create_job_app(
    settings: Settings,
    *,
    engine: Engine | None = None,
    config: SnapshotConfig | None = None,
) -> procrastinate.App:
    """Build the procrastinate app on the configured database, with a periodic task per schedule."""
    url = resolve_database_url(settings)
    engine = engine or make_engine(url, settings)
    config = config or load_config(settings)
    connector = procrastinate.PsycopgConnector(conninfo=libpq_url(url))
    job_app = procrastinate.App(connector=connector)

    @job_app.task(name=RUN_DUE_TASK)
    def run_due_snapshots(timestamp: int, schedule: str) -> None:
        """Take the schedule's due slots (missed ones too) and apply retention."""
        # The job may start after its wake-up time; never before it.
        now = max(datetime.now(UTC), datetime.fromtimestamp(timestamp, UTC))
        run = run_due(
            engine, config, now=now, names=[schedule], lock_timeout_ms=settings.lock_timeout_ms
        )
        for taken in run.taken:
            log.info(
                "snapshot %s for %s slot %s",
                taken.id if taken.id is not None else "already taken",
                taken.schedule,
                taken.slot.isoformat() if taken.slot else None,
                extra={"snapshot_id": taken.id, "late": taken.late},
            )
        if run.deleted:
            log.info("retention deleted %d snapshots", run.deleted)

    for schedule in config.schedules:
        job_app.periodic(
            cron=schedule.wakeup_cron(),
            periodic_id=schedule.name,
            task_kwargs={"schedule": schedule.name},
            # One job per schedule at a time: a slow run is not piled up behind.
            queueing_lock=f"snapshots:{schedule.name}",
            lock=f"snapshots:{schedule.name}",
        )(run_due_snapshots)
    return job_app
