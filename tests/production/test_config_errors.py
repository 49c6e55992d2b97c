"""A bad setting stops `gunicorn` and `dealtracker serve` at start with a clear message."""

from __future__ import annotations

import subprocess

import pytest

from app.config import DEFAULT_SECRET_KEY
from tests.production.compose import ROOT, compose_variables, free_port, process_env, service


def _run_api(database_url: str, **overrides: str) -> subprocess.CompletedProcess[str]:
    """Run the compose api command with some settings changed; return how it ended."""
    svc = service("api", compose_variables())
    env = process_env(svc, database_url, PORT=str(free_port()), **overrides)
    return subprocess.run(
        svc.command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=30
    )


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        # gunicorn itself parses a non-numeric WEB_CONCURRENCY before reading any config.
        ("WEB_CONCURRENCY", "0", "WEB_CONCURRENCY must be at least 1, not 0"),
        ("GUNICORN_THREADS", "many", "GUNICORN_THREADS must be a whole number, not 'many'"),
        ("LOG_FORMAT", "xml", "LOG_FORMAT must be auto, json or text, not 'xml'"),
        ("SECRET_KEY", DEFAULT_SECRET_KEY, "SECRET_KEY must be set to a random value"),
        ("DATABASE_URL", "mysql://db/x", "DATABASE_URL must start with postgresql://"),
    ],
)
def test_gunicorn_refuses_a_bad_setting_with_its_name_and_exits_non_zero(
    database_url: str, setting: str, value: str, message: str
) -> None:
    done = _run_api(database_url, **{setting: value})
    assert done.returncode != 0
    assert f"dealtracker: configuration error: {message}" in done.stderr
    assert "Traceback" not in done.stderr


def test_dealtracker_serve_refuses_a_bad_setting_before_starting(database_url: str) -> None:
    svc = service("api", compose_variables())
    env = process_env(svc, database_url, WEB_CONCURRENCY="lots")
    done = subprocess.run(
        ["dealtracker", "serve", "--port", str(free_port())],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert (
        "dealtracker: configuration error: WEB_CONCURRENCY must be a whole number, not 'lots'"
        in done.stderr
    )
