"""`dealtracker serve` runs gunicorn with the settings of app/gunicorn_conf.py."""

from __future__ import annotations

from pathlib import Path

from tests.production.compose import (
    Running,
    compose_variables,
    free_port,
    get,
    process_env,
    service,
    wait_until_up,
)


def test_serve_uses_the_shared_gunicorn_settings(database_url: str, tmp_path: Path) -> None:
    svc = service("api", compose_variables(WEB_CONCURRENCY="3"))
    env = process_env(svc, database_url, PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"))
    port = free_port()
    command = ["dealtracker", "serve", "--host", "127.0.0.1", "--port", str(port)]
    running = Running(command, env, tmp_path / "serve.log")
    try:
        wait_until_up(running, f"http://127.0.0.1:{port}")
        assert get(f"http://127.0.0.1:{port}/readyz")[0] == 200
    finally:
        assert running.terminate() == 0
    booted = [line for line in running.json_lines() if "Booting worker" in line["message"]]
    assert len(booted) == 3
    assert any(line["message"] == "Using worker: gthread" for line in running.json_lines())
