"""Every error is application/problem+json: never HTML, never a stack trace or SQL."""

from __future__ import annotations

import uuid
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.api.conftest import bearer, make_app
from tests.api.helpers import investment, new_deal, report


def problem(response: TestResponse, status: int) -> dict[str, Any]:
    """Assert a problem document with this status and return it."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.content_type == "application/problem+json"
    body: dict[str, Any] = response.get_json()
    assert {"type", "title", "status", "detail"} <= set(body)
    assert body["status"] == status
    text = response.get_data(as_text=True)
    assert "Traceback" not in text and "<html" not in text.lower() and "SELECT" not in text
    assert response.headers["X-Request-ID"]
    return body


def test_400_malformed_json(client: FlaskClient, editor: dict[str, str]) -> None:
    response = client.post(
        "/api/v1/organizations",
        data='{"name": "x",',
        content_type="application/json",
        headers=editor,
    )
    problem(response, 400)


def test_401_without_a_token(client: FlaskClient) -> None:
    problem(client.get("/api/v1/deals"), 401)


def test_403_reader_cannot_write(client: FlaskClient, reader: dict[str, str]) -> None:
    body = problem(
        client.post("/api/v1/organizations", json={"name": "x", "kind": "company"}, headers=reader),
        403,
    )
    assert "editor" in body["detail"]


def test_404_for_unknown_routes_and_resources(client: FlaskClient, editor: dict[str, str]) -> None:
    problem(client.get("/api/v1/nothing-here", headers=editor), 404)
    problem(client.get("/nothing-here"), 404)
    problem(client.get("/api/v1/deals/no-such-deal", headers=editor), 404)


def test_405_names_the_allowed_methods(client: FlaskClient, editor: dict[str, str]) -> None:
    response = client.delete("/api/v1/deals", headers=editor)
    problem(response, 405)
    assert "GET" in response.headers["Allow"] and "POST" in response.headers["Allow"]
    problem(client.post("/healthz"), 405)


def test_409_version_conflict_gives_current_version(
    client: FlaskClient, editor: dict[str, str]
) -> None:
    _, _, deal_id = new_deal(client, editor)
    report(client, editor, deal_id)
    body = problem(
        client.post(
            f"/api/v1/deals/{deal_id}/events",
            json={**investment(), "expected_version": 0},
            headers=editor,
        ),
        409,
    )
    assert body["current_version"] == 2


def test_412_stale_if_match(client: FlaskClient, editor: dict[str, str]) -> None:
    _, _, deal_id = new_deal(client, editor)
    for stale in ('"7"', "garbage"):
        problem(
            client.post(
                f"/api/v1/deals/{deal_id}/events",
                json=investment(),
                headers={**editor, "If-Match": stale},
            ),
            412,
        )


def test_413_body_over_the_limit(client: FlaskClient, editor: dict[str, str]) -> None:
    huge = {"name": "x" * (1024 * 1024 + 10), "kind": "company"}
    problem(client.post("/api/v1/organizations", json=huge, headers=editor), 413)


def test_413_limit_comes_from_max_body_bytes(database_url: str, editor_token: str) -> None:
    small = make_app(database_url, MAX_BODY_BYTES=2048).test_client()
    body = {"name": "x" * 3000, "kind": "company"}
    problem(small.post("/api/v1/organizations", json=body, headers=bearer(editor_token)), 413)


def test_415_body_that_is_not_json(client: FlaskClient, editor: dict[str, str]) -> None:
    for content_type in ("text/plain", "application/x-www-form-urlencoded"):
        response = client.post(
            "/api/v1/organizations",
            data="name=x&kind=company",
            content_type=content_type,
            headers=editor,
        )
        problem(response, 415)


def test_422_names_every_invalid_field(client: FlaskClient, editor: dict[str, str]) -> None:
    _, _, deal_id = new_deal(client, editor)
    body = investment(status="finished", occurred_at="2024-03-27T10:00:00")
    body["unexpected"] = 1
    found = problem(client.post(f"/api/v1/deals/{deal_id}/events", json=body, headers=editor), 422)
    assert set(found["errors"]) == {"occurred_at", "unexpected"}
    body = investment(status="finished")
    found = problem(client.post(f"/api/v1/deals/{deal_id}/events", json=body, headers=editor), 422)
    assert set(found["errors"]) == {"data.status"}
    assert all(isinstance(m, list) for m in found["errors"].values())


def test_429_when_the_rate_limit_is_used_up(database_url: str, reader_token: str) -> None:
    limited = make_app(database_url, RATE_LIMIT_PER_MINUTE=2).test_client()
    headers = bearer(reader_token)
    assert limited.get("/api/v1/deals", headers=headers).status_code == 200
    second = limited.get("/api/v1/deals", headers=headers)
    assert second.headers["X-RateLimit-Remaining"] == "0"
    response = limited.get("/api/v1/deals", headers=headers)
    problem(response, 429)
    assert int(response.headers["Retry-After"]) >= 1
    # Anonymous clients are limited by address, separately from tokens.
    problem(limited.get("/api/v1/deals"), 401)


def test_500_never_shows_the_error(database_url: str) -> None:
    app = make_app(database_url, PUBLIC_READS=True)

    @app.get("/api/v1/boom")
    def boom() -> str:
        raise RuntimeError("SELECT secret FROM internals")

    body = problem(app.test_client().get("/api/v1/boom"), 500)
    assert "secret" not in str(body)


def test_503_when_the_database_is_unreachable(editor_token: str) -> None:
    app = make_app("postgresql://postgres@127.0.0.1:1/nowhere", PUBLIC_READS=True)
    client = app.test_client()
    for response in (
        client.get("/api/v1/deals"),
        client.get("/api/v1/deals", headers=bearer(editor_token)),
        client.get("/readyz"),
    ):
        problem(response, 503)
        assert response.headers["Retry-After"]
    assert client.get("/healthz").status_code == 200


def test_request_id_is_echoed_on_errors(client: FlaskClient) -> None:
    response = client.get(f"/api/v1/events/{uuid.uuid4()}", headers={"X-Request-ID": "abc-1"})
    assert response.headers["X-Request-ID"] == "abc-1"
