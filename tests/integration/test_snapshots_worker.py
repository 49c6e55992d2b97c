"""The snapshot schedule runs in a real procrastinate worker on PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from sqlalchemy import Engine, text

from app.config import Settings
from app.jobs.queue import RUN_DUE_TASK, create_job_app
from tests.integration.test_snapshots import ROOT, Desk, fresh_engine

__all__ = ["fresh_engine"]
EVERY_MINUTE = "minutely=* * * * *"


def _snapshots(engine: Engine) -> list[tuple[str, datetime, bool]]:
    with engine.connect() as conn:
        sql = "SELECT schedule, slot, late FROM snapshots ORDER BY slot"
        return [tuple(row) for row in conn.execute(text(sql))]  # type: ignore[misc]


def _registered_workers(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM procrastinate_workers")).scalar_one())


def _current_minute() -> datetime:
    return datetime.now(UTC).replace(second=0, microsecond=0)


def test_the_periodic_task_fires_in_a_real_worker_and_takes_the_slot(
    fresh_engine: Engine, fresh_database_url: str
) -> None:
    Desk(fresh_engine, "2025-01-10T08:00:00").register("helix")
    settings = Settings(database_url=fresh_database_url, snapshot_schedules=EVERY_MINUTE)
    job_app = create_job_app(settings, engine=fresh_engine)
    started = _current_minute()

    async def work_until_a_snapshot_exists() -> None:
        async with job_app.open_async():
            worker = asyncio.create_task(
                job_app.run_worker_async(
                    install_signal_handlers=False, fetch_job_polling_interval=0.2
                )
            )
            try:
                deadline = time.monotonic() + 20
                while not await asyncio.to_thread(_snapshots, fresh_engine):
                    assert time.monotonic() < deadline, "no snapshot within 20 s"
                    assert not worker.done(), worker
                    await asyncio.sleep(0.1)
            finally:
                worker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await worker

    # A thread of its own: another test's tooling (a browser driver) may own this thread's loop.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, work_until_a_snapshot_exists()).result(timeout=60)

    [(schedule, slot, _late)] = _snapshots(fresh_engine)[:1]
    assert schedule == "minutely" and slot >= started
    with fresh_engine.connect() as conn:
        deferred = conn.execute(
            text("SELECT periodic_id FROM procrastinate_periodic_defers WHERE task_name = :t"),
            {"t": RUN_DUE_TASK},
        ).all()
        succeeded = conn.execute(
            text(
                "SELECT count(*) FROM procrastinate_jobs WHERE task_name = :t AND status = 'succeeded'"
            ),
            {"t": RUN_DUE_TASK},
        ).scalar_one()
    assert ("minutely",) in deferred and succeeded >= 1


def test_the_worker_command_catches_up_at_start_and_stops_on_sigterm(
    fresh_engine: Engine, fresh_database_url: str
) -> None:
    Desk(fresh_engine, "2025-01-10T08:00:00").register("helix")
    env = {**os.environ, "DATABASE_URL": fresh_database_url, "SNAPSHOT_SCHEDULES": EVERY_MINUTE}
    worker = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "worker"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while not (_snapshots(fresh_engine) and _registered_workers(fresh_engine)):
            assert worker.poll() is None, worker.communicate()[1]
            assert time.monotonic() < deadline, "the worker took no snapshot within 20 s"
            time.sleep(0.1)
    finally:
        worker.send_signal(signal.SIGTERM)
        _, errors = worker.communicate(timeout=20)
    assert worker.returncode == 0, errors
    assert "worker running" in errors
