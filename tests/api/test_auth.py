"""Who may do what: anonymous, reader, editor and admin against every endpoint."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.api.conftest import bearer, make_app
from tests.api.helpers import SOURCE, investment, new_deal, report
from tests.conftest import new_id


@dataclass(frozen=True)
class World:
    org: str
    other_org: str
    deal: str
    event: str


Request = tuple[str, str, Any]  # method, url, JSON body
Build = Callable[[FlaskClient, dict[str, str], World], Request]


def _new_report(client: FlaskClient, editor: dict[str, str], world: World) -> str:
    return str(report(client, editor, world.deal)["event_id"])


ENDPOINTS: dict[str, tuple[Build, int]] = {
    "search organizations": (lambda c, e, w: ("GET", "/api/v1/organizations?q=helix", None), 200),
    "organization state": (lambda c, e, w: ("GET", f"/api/v1/organizations/{w.org}", None), 200),
    "organization history": (
        lambda c, e, w: ("GET", f"/api/v1/organizations/{w.org}/events", None),
        200,
    ),
    "list deals": (lambda c, e, w: ("GET", "/api/v1/deals", None), 200),
    "deal state": (lambda c, e, w: ("GET", f"/api/v1/deals/{w.deal}", None), 200),
    "deal history": (lambda c, e, w: ("GET", f"/api/v1/deals/{w.deal}/events", None), 200),
    "global log": (lambda c, e, w: ("GET", "/api/v1/events?limit=1", None), 200),
    "one event": (lambda c, e, w: ("GET", f"/api/v1/events/{w.event}", None), 200),
    "change feed": (
        lambda c, e, w: ("GET", "/api/v1/events/stream?max_seconds=0&limit=1", None),
        200,
    ),
    "register organization": (
        lambda c, e, w: (
            "POST",
            "/api/v1/organizations",
            {"name": new_id("Org"), "kind": "company"},
        ),
        201,
    ),
    "append to organization": (
        lambda c, e, w: (
            "POST",
            f"/api/v1/organizations/{w.org}/events",
            {
                "type": "organization.alias_added",
                "occurred_at": "2024-01-01",
                "data": {"alias": "X"},
            },
        ),
        201,
    ),
    "open deal": (
        lambda c, e, w: (
            "POST",
            "/api/v1/deals",
            {
                "kind": "investment",
                "title": new_id("Deal"),
                "parties": {"investor": w.org, "investee": w.other_org},
                "source": SOURCE,
            },
        ),
        201,
    ),
    "append to deal": (
        lambda c, e, w: ("POST", f"/api/v1/deals/{w.deal}/events", investment()),
        201,
    ),
    "correct event": (
        lambda c, e, w: (
            "POST",
            f"/api/v1/events/{w.event}/corrections",
            {"changes": {"note": "checked"}, "reason": "detail"},
        ),
        201,
    ),
    "retract event": (
        lambda c, e, w: (
            "POST",
            f"/api/v1/events/{_new_report(c, e, w)}/retractions",
            {"reason": "withdrawn", "source": SOURCE},
        ),
        201,
    ),
    "batch": (
        lambda c, e, w: (
            "POST",
            "/api/v1/batches",
            {"events": [{"stream_id": f"deal:{w.deal}", **investment()}]},
        ),
        201,
    ),
}
ROLES = ("anonymous", "reader", "editor", "admin")


@pytest.fixture(scope="module")
def world(app: Flask, editor_token: str) -> World:
    client, editor = app.test_client(), bearer(editor_token)
    org, other, deal = new_deal(client, editor)
    return World(org, other, deal, str(report(client, editor, deal)["event_id"]))


def expected(endpoint: str, role: str, public_reads: bool = False) -> int:
    success = ENDPOINTS[endpoint][1]
    is_read = success == 200
    if role == "anonymous":
        return success if is_read and public_reads else 401
    if role == "reader" and not is_read:
        return 403
    return success


def call(client: FlaskClient, request: Request, headers: dict[str, str]) -> int:
    method, url, body = request
    return client.open(url, method=method, json=body, headers=headers).status_code


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_role_matrix(
    app: Flask,
    world: World,
    editor_token: str,
    reader_token: str,
    admin_token: str,
    endpoint: str,
    role: str,
) -> None:
    client = app.test_client()
    tokens = {"reader": reader_token, "editor": editor_token, "admin": admin_token}
    headers = bearer(tokens[role]) if role in tokens else {}
    request = ENDPOINTS[endpoint][0](client, bearer(editor_token), world)
    status = call(client, request, headers)
    assert status == expected(endpoint, role), (endpoint, role)


@pytest.fixture(scope="module")
def public_app(database_url: str) -> Flask:
    return make_app(database_url, PUBLIC_READS=True)


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_public_reads_open_reads_to_anonymous_clients_only(
    public_app: Flask, world: World, editor_token: str, endpoint: str
) -> None:
    client = public_app.test_client()
    request = ENDPOINTS[endpoint][0](client, bearer(editor_token), world)
    assert call(client, request, {}) == expected(endpoint, "anonymous", public_reads=True)


def test_a_bad_token_is_401_even_with_public_reads(public_app: Flask) -> None:
    client = public_app.test_client()
    for header in ("Bearer dt_nonsense", "Basic dXNlcjpwYXNz", "Bearer"):
        response = client.get("/api/v1/deals", headers={"Authorization": header})
        assert response.status_code == 401, header
        assert response.content_type == "application/problem+json"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_token_is_401_once_the_token_cache_lets_it_go(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    from sqlalchemy import text

    from app.store.tokens import create_token, hash_token

    # Verified tokens are cached for TOKEN_CACHE_SECONDS (5 s); shortened here.
    monkeypatch.setattr(app.extensions["dealtracker_tokens"], "seconds", 0.2)
    engine = app.extensions["dealtracker"].engine
    token = create_token(engine, role="editor", name="revoked")
    client = app.test_client()
    assert client.get("/api/v1/deals", headers=bearer(token)).status_code == 200
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE api_tokens SET revoked_at = now() WHERE token_hash = :h"),
            {"h": hash_token(token)},
        )
    assert client.get("/api/v1/deals", headers=bearer(token)).status_code == 200  # still cached
    time.sleep(0.25)
    assert client.get("/api/v1/deals", headers=bearer(token)).status_code == 401


def test_operational_endpoints_need_no_token(client: FlaskClient) -> None:
    for url in ("/healthz", "/readyz", "/metrics", "/openapi.json", "/docs"):
        assert client.get(url).status_code == 200, url
