"""The compose `worker` command, run as written against a fresh test database."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import psycopg
import pytest

from app.config import Settings
from app.jobs import queue
from app.store.database import libpq_url
from tests.conftest import Databases
from tests.production.compose import (
    ROOT,
    Running,
    compose_variables,
    eventually,
    process_env,
    service,
)


@pytest.fixture(scope="module")
def worker_database_url(databases: Databases) -> str:
    """A database of this module's own, so the worker's snapshots land nowhere else."""
    return databases.migrated()


def _start_worker(database_url: str, tmp_path: Path) -> Running:
    """Start the worker as compose does and wait until procrastinate takes jobs."""
    svc = service("worker", compose_variables())
    running = Running(svc.command, process_env(svc, database_url), tmp_path / "worker.log")
    eventually(lambda: "Starting worker" in running.output() or running.process.poll(), 30)
    assert running.process.poll() is None, running.output()
    return running


def _scalar(database_url: str, sql: str, *params: object) -> object:
    with psycopg.connect(libpq_url(database_url)) as conn:
        row = conn.execute(sql, params).fetchone()
    return row[0] if row else None


def test_the_worker_takes_the_due_snapshot_of_its_schedule_and_stops_on_sigterm(
    worker_database_url: str, tmp_path: Path
) -> None:
    running = _start_worker(worker_database_url, tmp_path)
    try:
        # A schedule with no snapshot yet starts at its latest due slot (SNAPSHOT_SCHEDULES=daily).
        taken = _scalar(
            worker_database_url, "SELECT count(*) FROM snapshots WHERE schedule = 'daily'"
        )
        assert taken == 1
    finally:
        assert running.terminate(timeout=20) == 0, running.output()
    assert '"message": "Stopped worker on all queues"' in running.output()


def test_a_job_in_hand_at_sigterm_is_finished_before_the_worker_exits(
    worker_database_url: str, tmp_path: Path
) -> None:
    running = _start_worker(worker_database_url, tmp_path)
    settings = Settings(
        database_url=worker_database_url, snapshot_schedules="daily=0 0 * * *", env="test"
    )
    job_app = queue.create_job_app(settings)
    status_sql = "SELECT status::text FROM procrastinate_jobs WHERE id = %s"
    try:
        with psycopg.connect(libpq_url(worker_database_url)) as blocker:
            # The job reads the snapshots table, so it stays in hand until this lock goes.
            blocker.execute("LOCK TABLE snapshots IN ACCESS EXCLUSIVE MODE")
            with job_app.open():
                job_id = job_app.tasks[queue.RUN_DUE_TASK].defer(
                    timestamp=int(time.time()), schedule="daily"
                )
            eventually(lambda: _scalar(worker_database_url, status_sql, job_id) == "doing", 20)
            running.sigterm()
            time.sleep(1.5)
            assert running.process.poll() is None, "the worker left before its job was done"
            blocker.rollback()
    finally:
        exit_status = running.terminate(timeout=20)
    assert exit_status == 0, running.output()
    assert _scalar(worker_database_url, status_sql, job_id) == "succeeded"


def test_the_worker_refuses_a_bad_schedule_setting_with_a_clear_message(
    database_url: str,
) -> None:
    svc = service("worker", compose_variables(SNAPSHOT_TIMEZONE="Mars/Olympus_Mons"))
    done = subprocess.run(
        svc.command,
        cwd=ROOT,
        env=process_env(svc, database_url),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert "SNAPSHOT_TIMEZONE must be an IANA time zone" in done.stderr
    assert "Traceback" not in done.stderr
