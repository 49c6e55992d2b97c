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


def test_serve_uses_the_shared_gunicorn_settings_and_multiprocess_metrics(
    database_url: str, tmp_path: Path
) -> None:
    svc = service("api", compose_variables(WEB_CONCURRENCY="3"))
    env = process_env(svc, database_url)
    # Unset, the config makes a directory of its own for the workers' samples.
    del env["PROMETHEUS_MULTIPROC_DIR"]
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    command = ["dealtracker", "serve", "--host", "127.0.0.1", "--port", str(port)]
    running = Running(command, env, tmp_path / "serve.log")
    try:
        wait_until_up(running, base_url)
        assert get(f"{base_url}/readyz")[0] == 200
        metrics = get(f"{base_url}/metrics")[2].decode()
    finally:
        assert running.terminate() == 0
    booted = [line for line in running.json_lines() if "Booting worker" in line["message"]]
    assert len(booted) == 3
    assert any(line["message"] == "Using worker: gthread" for line in running.json_lines())
    assert 'route="/readyz"' in metrics
    # A single process's registry would show its own python_info; the multiprocess one does not.
    assert "python_info" not in metrics
