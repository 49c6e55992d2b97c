"""docker-compose.yml, Dockerfile and .dockerignore declare what production needs."""

from __future__ import annotations

import re

import pytest

from tests.production.compose import ROOT, interpolate, load_compose, service


def test_compose_declares_db_migrate_api_and_worker() -> None:
    assert set(load_compose()["services"]) == {"db", "migrate", "api", "worker"}


def test_db_is_postgres_17_on_a_named_volume_with_a_pg_isready_healthcheck() -> None:
    compose = load_compose()
    db = compose["services"]["db"]
    assert db["image"] == "postgres:17"
    volume = db["volumes"][0].split(":")[0]
    assert volume in compose["volumes"]
    assert "pg_isready" in db["healthcheck"]["test"]


def test_migrate_runs_db_upgrade_once_the_database_is_healthy() -> None:
    migrate = load_compose()["services"]["migrate"]
    assert migrate["command"] == ["dealtracker", "db", "upgrade"]
    assert migrate["restart"] == "no"
    assert migrate["depends_on"] == {"db": {"condition": "service_healthy"}}


def test_api_runs_gunicorn_with_the_shared_config_and_a_readyz_healthcheck() -> None:
    api = load_compose()["services"]["api"]
    assert api["command"] == ["gunicorn", "-c", "python:app.gunicorn_conf", "app:create_app()"]
    assert api["environment"]["WEB_CONCURRENCY"] == "${WEB_CONCURRENCY:-2}"
    assert any("/readyz" in part for part in api["healthcheck"]["test"])
    assert api["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}
    # Docker's SIGKILL must come after gunicorn's graceful_timeout of 35 s.
    assert int(api["stop_grace_period"].rstrip("s")) > 35


def test_worker_runs_dealtracker_worker_with_the_snapshot_schedules() -> None:
    worker = load_compose()["services"]["worker"]
    assert worker["command"] == ["dealtracker", "worker"]
    assert {"SNAPSHOT_SCHEDULES", "SNAPSHOT_TIMEZONE", "SNAPSHOT_RETENTION"} <= set(
        worker["environment"]
    )
    assert worker["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}


def test_every_app_service_runs_in_production_mode_on_the_db_service() -> None:
    for name in ("migrate", "api", "worker"):
        env = service(name, {"SECRET_KEY": "k" * 40}).environment
        assert env["DEALTRACKER_ENV"] == "production"
        assert env["DATABASE_URL"] == "postgresql://dealtracker:dealtracker@db:5432/dealtracker"


def test_compose_refuses_to_start_without_a_secret_key() -> None:
    with pytest.raises(ValueError, match="SECRET_KEY"):
        service("api", {})


def test_interpolation_follows_compose_rules() -> None:
    assert interpolate("${A:-x} ${B-y} $C $$D", {"A": "", "B": "", "C": "c"}) == "x  c $D"


def test_dockerfile_builds_a_slim_non_root_image_from_pyproject() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.1[12]-slim$", dockerfile, re.MULTILINE)
    assert re.search(r"^USER (?!root)\w+$", dockerfile, re.MULTILINE)
    assert "pip install ." in dockerfile and "requirements" not in dockerfile
    assert 'CMD ["gunicorn", "-c", "python:app.gunicorn_conf", "app:create_app()"]' in dockerfile


def test_dockerignore_keeps_local_state_out_of_the_image() -> None:
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", "var", ".env"} <= set(ignored)
