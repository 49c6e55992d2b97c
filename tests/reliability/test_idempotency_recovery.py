"""A keyed write whose answer was lost (the worker died, the database went away) is answered, never doubled."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from app.api import idempotency
from tests.api.helpers import SOURCE, investment, new_deal
from tests.conftest import new_id

# The worker died after the write committed: the claim has no answer and is never ended.
LOSE_THE_ANSWER = text(
    "UPDATE idempotency_keys SET status = NULL, response_body = NULL, completed_at = NULL"
    " WHERE key = :key"
)
# The attempt ended with a server error (the database went away as it committed).
FAIL_THE_ATTEMPT = text(
    "UPDATE idempotency_keys SET status = NULL, response_body = NULL WHERE key = :key"
)


@pytest.fixture
def orphans_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Take over claims without an answer at once rather than after ten seconds."""
    monkeypatch.setattr(idempotency, "ORPHANED_AFTER_SECONDS", 0)


def log_size(app: Flask) -> int:
    with app.extensions["dealtracker"].engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM events")).scalar_one())


def lose(app: Flask, key: str, statement: Any = LOSE_THE_ANSWER) -> None:
    """Leave the key's claim as a crash would."""
    with app.extensions["dealtracker"].engine.begin() as conn:
        conn.execute(statement, {"key": key})


def test_a_retry_after_the_answer_was_lost_answers_with_the_events_already_written(
    app: Flask, client: FlaskClient, editor: dict[str, str], orphans_at_once: None
) -> None:
    _, _, deal_id = new_deal(client, editor)
    headers = {**editor, "Idempotency-Key": new_id("key")}
    url = f"/api/v1/deals/{deal_id}/events"
    first = client.post(url, json=investment(), headers=headers)
    assert first.status_code == 201
    lose(app, headers["Idempotency-Key"])
    before = log_size(app)
    again = client.post(url, json=investment(), headers=headers)
    assert again.status_code == 201, again.get_json()
    assert again.get_json() == first.get_json()
    assert log_size(app) == before
    replayed = client.post(url, json=investment(), headers=headers)
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert replayed.get_json() == first.get_json()


def test_a_batch_retried_after_a_server_error_ended_its_attempt_is_written_once(
    app: Flask, client: FlaskClient, editor: dict[str, str]
) -> None:
    _, _, deal_id = new_deal(client, editor)
    body = {"events": [{"stream_id": f"deal:{deal_id}", **investment()} for _ in range(3)]}
    headers = {**editor, "Idempotency-Key": new_id("key")}
    first = client.post("/api/v1/batches", json=body, headers=headers)
    assert first.status_code == 201
    lose(app, headers["Idempotency-Key"], FAIL_THE_ATTEMPT)
    before = log_size(app)
    again = client.post("/api/v1/batches", json=body, headers=headers)
    assert again.status_code == 201
    assert again.get_json() == first.get_json()
    assert log_size(app) == before


def test_a_create_retried_after_its_answer_was_lost_is_not_a_conflict(
    app: Flask, client: FlaskClient, editor: dict[str, str], orphans_at_once: None
) -> None:
    body = {"id": new_id("org"), "name": "Lost Answer Ltd", "kind": "company", "source": SOURCE}
    headers = {**editor, "Idempotency-Key": new_id("key")}
    first = client.post("/api/v1/organizations", json=body, headers=headers)
    assert first.status_code == 201
    lose(app, headers["Idempotency-Key"])
    before = log_size(app)
    again = client.post("/api/v1/organizations", json=body, headers=headers)
    assert again.status_code == 201, again.get_json()
    assert again.get_json()["state"] == first.get_json()["state"]
    assert log_size(app) == before


def test_a_duplicate_of_a_write_still_in_flight_is_still_409(
    app: Flask, client: FlaskClient, editor: dict[str, str]
) -> None:
    _, _, deal_id = new_deal(client, editor)
    headers = {**editor, "Idempotency-Key": new_id("key")}
    url = f"/api/v1/deals/{deal_id}/events"
    assert client.post(url, json=investment(), headers=headers).status_code == 201
    with app.extensions["dealtracker"].engine.begin() as conn:
        conn.execute(
            text("UPDATE idempotency_keys SET status = NULL, completed_at = NULL WHERE key = :k"),
            {"k": headers["Idempotency-Key"]},
        )
    before = log_size(app)
    assert client.post(url, json=investment(), headers=headers).status_code == 409
    assert log_size(app) == before


def test_the_same_keyed_write_sent_eight_times_at_once_is_written_once(
    app: Flask, client: FlaskClient, editor: dict[str, str]
) -> None:
    _, _, deal_id = new_deal(client, editor)
    body = {"events": [{"stream_id": f"deal:{deal_id}", **investment()} for _ in range(3)]}
    headers = {**editor, "Idempotency-Key": new_id("key")}
    before = log_size(app)
    start = threading.Barrier(8)

    def send(_: int) -> tuple[int, Any]:
        start.wait()
        response = app.test_client().post("/api/v1/batches", json=body, headers=headers)
        return response.status_code, response.get_json()

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(send, range(8)))
    assert log_size(app) == before + 3
    written = [found for status, found in answers if status == 201]
    assert written, answers
    assert all(found == written[0] for found in written)
    assert {status for status, _ in answers} <= {201, 409}
