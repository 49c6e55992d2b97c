"""Idempotency-Key: a retry gets the first response again; a reused key with another body is 422."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from app.api import idempotency
from tests.api.helpers import created, investment, new_deal
from tests.conftest import new_id


def events_of(client: FlaskClient, editor: dict[str, str], deal_id: str) -> int:
    return len(created(client.get(f"/api/v1/deals/{deal_id}/events", headers=editor), 200)["items"])


def test_same_key_same_body_replays_the_first_response_without_a_new_event(
    client: FlaskClient, editor: dict[str, str]
) -> None:
    _, _, deal_id = new_deal(client, editor)
    headers = {**editor, "Idempotency-Key": new_id("key")}
    url = f"/api/v1/deals/{deal_id}/events"
    first = client.post(url, json=investment(), headers=headers)
    again = client.post(url, json=investment(), headers={**headers, "X-Request-ID": "retry-1"})
    assert first.status_code == again.status_code == 201
    assert first.get_json() == again.get_json()
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["X-Request-ID"] == "retry-1"
    assert events_of(client, editor, deal_id) == 2


def test_same_key_other_body_is_422(client: FlaskClient, editor: dict[str, str]) -> None:
    _, _, deal_id = new_deal(client, editor)
    headers = {**editor, "Idempotency-Key": new_id("key")}
    url = f"/api/v1/deals/{deal_id}/events"
    created(client.post(url, json=investment(amount="1"), headers=headers))
    response = client.post(url, json=investment(amount="2"), headers=headers)
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert "Idempotency-Key" in response.get_json()["errors"]
    assert events_of(client, editor, deal_id) == 2


def test_replays_errors_too_and_keys_belong_to_one_token(
    client: FlaskClient, editor: dict[str, str], admin_token: str
) -> None:
    key = new_id("key")
    body = {"name": "x", "kind": "bank"}
    first = client.post(
        "/api/v1/organizations", json=body, headers={**editor, "Idempotency-Key": key}
    )
    again = client.post(
        "/api/v1/organizations", json=body, headers={**editor, "Idempotency-Key": key}
    )
    assert first.status_code == again.status_code == 422
    assert first.get_json() == again.get_json()
    other_token = {"Authorization": f"Bearer {admin_token}", "Idempotency-Key": key}
    good = {"name": new_id("Org"), "kind": "company"}
    assert client.post("/api/v1/organizations", json=good, headers=other_token).status_code == 201


def test_a_duplicate_while_the_first_is_in_flight_is_409(
    app: Flask, client: FlaskClient, editor: dict[str, str]
) -> None:
    _, _, deal_id = new_deal(client, editor)
    key, url, body = new_id("key"), f"/api/v1/deals/{deal_id}/events", investment()
    with app.test_request_context(url, method="POST", json=body):
        digest = idempotency.request_hash()
    engine = app.extensions["dealtracker"].engine
    with engine.begin() as conn:
        token_id = conn.execute(
            text("SELECT id FROM api_tokens WHERE name = 'test-editor'")
        ).scalar()
        conn.execute(
            text("INSERT INTO idempotency_keys (token_id, key, request_hash) VALUES (:t, :k, :h)"),
            {"t": token_id, "k": key, "h": digest},
        )
    response = client.post(url, json=body, headers={**editor, "Idempotency-Key": key})
    assert response.status_code == 409
    assert response.headers["Retry-After"] == "1"
    assert events_of(client, editor, deal_id) == 1


def test_keys_older_than_a_day_are_forgotten(
    app: Flask, client: FlaskClient, editor: dict[str, str]
) -> None:
    _, _, deal_id = new_deal(client, editor)
    headers = {**editor, "Idempotency-Key": new_id("key")}
    url = f"/api/v1/deals/{deal_id}/events"
    created(client.post(url, json=investment(), headers=headers))
    with app.extensions["dealtracker"].engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = :k"
            ),
            {"k": headers["Idempotency-Key"]},
        )
    created(client.post(url, json=investment(), headers=headers))
    assert events_of(client, editor, deal_id) == 3


def test_a_key_longer_than_255_characters_is_422(
    client: FlaskClient, editor: dict[str, str]
) -> None:
    response = client.post(
        "/api/v1/organizations",
        json={"name": new_id("Org"), "kind": "company"},
        headers={**editor, "Idempotency-Key": "k" * 256},
    )
    assert response.status_code == 422
