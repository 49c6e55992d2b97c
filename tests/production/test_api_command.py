"""The compose `api` command, run as written with two workers against the test database."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine

from app.store.tokens import create_token
from tests.conftest import new_id
from tests.production.compose import (
    Running,
    compose_variables,
    eventually,
    free_port,
    get,
    process_env,
    service,
    wait_until_up,
)


class Api:
    """The running gunicorn: its base URL, process, environment and metrics directory."""

    def __init__(self, running: Running, base_url: str, env: dict[str, str]) -> None:
        self.running = running
        self.base_url = base_url
        self.env = env
        self.metrics_dir = Path(env["PROMETHEUS_MULTIPROC_DIR"])


@pytest.fixture(scope="module")
def api(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """gunicorn as compose runs it: two workers of one thread each, so requests spread."""
    tmp = tmp_path_factory.mktemp("api")
    svc = service("api", compose_variables(WEB_CONCURRENCY="2", GUNICORN_THREADS="1"))
    port = free_port()
    env = process_env(
        svc, database_url, PORT=str(port), PROMETHEUS_MULTIPROC_DIR=str(tmp / "metrics")
    )
    running = Running(svc.command, env, tmp / "api.log")
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(running, base_url)
        yield Api(running, base_url, env)
    finally:
        running.terminate()


def requests_counted(api: Api, route: str) -> float:
    """Return dealtracker_http_requests_total for GET `route` with status 200, as /metrics says."""
    status, _, body = get(f"{api.base_url}/metrics")
    assert status == 200
    for family in text_string_to_metric_families(body.decode()):
        if family.name == "dealtracker_http_requests":
            for sample in family.samples:
                wanted = {"route": route, "method": "GET", "status": "200"}
                if sample.name.endswith("_total") and wanted.items() <= sample.labels.items():
                    return sample.value
    return 0.0


def test_readyz_answers_200_and_the_compose_healthcheck_passes(api: Api) -> None:
    assert get(f"{api.base_url}/readyz")[0] == 200
    healthcheck = service("api", compose_variables()).definition["healthcheck"]["test"]
    assert healthcheck[0] == "CMD"
    done = subprocess.run(healthcheck[1:], env=api.env, capture_output=True, timeout=20)
    assert done.returncode == 0, done.stderr


def test_an_api_call_with_a_token_answers_and_one_without_is_refused(
    api: Api, engine: Engine
) -> None:
    token = create_token(engine, role="reader", name=new_id("prod"))
    url = f"{api.base_url}/api/v1/events?limit=1"
    status, headers, _ = get(url, {"Authorization": f"Bearer {token}"})
    assert status == 200
    assert headers["Content-Type"].startswith("application/json")
    assert get(url)[0] == 401


def test_metrics_add_up_the_requests_of_every_worker(api: Api) -> None:
    before = requests_counted(api, "/healthz")
    sent = 0
    with ThreadPoolExecutor(8) as pool:
        # Until both workers have counted some: each writes its own file, named by its pid.
        for _ in range(10):
            statuses = list(pool.map(lambda _: get(f"{api.base_url}/healthz")[0], range(40)))
            assert set(statuses) == {200}
            sent += len(statuses)
            if len(list(api.metrics_dir.glob("counter_*.db"))) >= 2:
                break
    assert len(list(api.metrics_dir.glob("counter_*.db"))) >= 2
    # Whichever worker answers the scrape, it reports the sum over both.
    for _ in range(4):
        assert requests_counted(api, "/healthz") == before + sent


def test_metrics_include_snapshot_age_and_failed_jobs(api: Api) -> None:
    body = get(f"{api.base_url}/metrics")[2].decode()
    assert "# TYPE dealtracker_snapshot_newest_age_seconds gauge" in body
    assert "# TYPE dealtracker_jobs_failed gauge" in body


def test_request_log_is_a_json_line_with_request_id_route_status_latency_and_actor(
    api: Api, engine: Engine
) -> None:
    name = new_id("desk")
    token = create_token(engine, role="reader", name=name)
    request_id = uuid.uuid4().hex
    headers = {"Authorization": f"Bearer {token}", "X-Request-ID": request_id}
    assert get(f"{api.base_url}/api/v1/events?limit=1", headers)[0] == 200

    def logged() -> list[dict[str, object]]:
        return [line for line in api.running.json_lines() if line.get("request_id") == request_id]

    lines = eventually(logged)
    request_line = next(line for line in lines if line["logger"] == "dealtracker.request")
    assert request_line["route"] == "/api/v1/events"
    assert request_line["status"] == 200
    assert isinstance(request_line["latency_ms"], float)
    assert request_line["actor"] == name
    assert request_line["level"] == "INFO" and request_line["time"]
    assert token not in api.running.output()
