"""On SIGTERM gunicorn lets the requests in hand finish before it exits."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import Engine, text

from app.config import Settings
from app.store.database import make_engine
from app.store.tokens import create_token
from tests.production.compose import (
    Running,
    compose_variables,
    free_port,
    get,
    process_env,
    service,
    wait_until_up,
)


def _token_and_head(database_url: str) -> tuple[str, int]:
    """Return a reader token and the newest position in the log."""
    engine: Engine = make_engine(database_url, Settings())
    try:
        with engine.connect() as conn:
            head = conn.execute(text("SELECT coalesce(max(position), 0) FROM events")).scalar_one()
        return create_token(engine, role="reader", name="graceful"), int(head)
    finally:
        engine.dispose()


def test_a_long_poll_in_flight_at_sigterm_still_gets_its_whole_answer(
    database_url: str, tmp_path: Path
) -> None:
    token, head = _token_and_head(database_url)
    svc = service("api", compose_variables(WEB_CONCURRENCY="1"))
    port = free_port()
    env = process_env(
        svc, database_url, PORT=str(port), PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "m")
    )
    running = Running(svc.command, env, tmp_path / "api.log")
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(running, base_url)
        # Nothing is appended meanwhile: the poll waits its full 3 s for an event that never comes.
        url = f"{base_url}/api/v1/events?after={head}&wait=3"
        with ThreadPoolExecutor(1) as pool:
            started = time.monotonic()
            answer = pool.submit(get, url, {"Authorization": f"Bearer {token}"}, 15)
            time.sleep(0.8)
            running.sigterm()
            status, _, body = answer.result()
            waited = time.monotonic() - started
    finally:
        exit_status = running.terminate()
    assert status == 200, body
    assert json.loads(body)["items"] == []
    assert waited >= 2.5
    assert exit_status == 0, running.output()
    assert "Handling signal: term" in running.output()
