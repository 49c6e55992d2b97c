"""Secrets stay secret (hashed at rest, never logged), forged forms are refused, injection finds nothing."""

from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, text

from app import create_app
from app.config import DEFAULT_SECRET_KEY, ConfigError, Settings
from app.logs import JsonFormatter, TextFormatter
from app.store.tokens import create_token
from tests.api.conftest import make_app
from tests.api.helpers import investment, new_deal, register_org
from tests.conftest import new_id

SECRET_KEY = "reliability-secret-" + "k" * 40
PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def secret_app(database_url: str) -> Iterator[Flask]:
    """An app with a recognisable SECRET_KEY, to look for it where it must not be."""
    app = make_app(database_url, SECRET_KEY=SECRET_KEY)
    yield app
    app.extensions["dealtracker"].engine.dispose()


def engine_of(app: Flask) -> Engine:
    found: Engine = app.extensions["dealtracker"].engine
    return found


def has_admin(app: Flask) -> bool:
    """Tell whether the admin pages and their users table are in this build."""
    if "admin" not in app.blueprints:
        return False
    with engine_of(app).connect() as conn:
        return conn.execute(text("SELECT to_regclass('users') IS NOT NULL")).scalar_one()


def admin_user(app: Flask, role: str = "editor") -> str:
    """Create an admin-page user with PASSWORD and return the username."""
    from app.admin.accounts import create_user

    username = new_id("user")
    create_user(engine_of(app), username=username, role=role, password=PASSWORD)
    return username


def csrf_from(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def sign_in(client: FlaskClient, username: str) -> Any:
    """Sign in through the login form, as a browser would."""
    token = csrf_from(client.get("/admin/login").get_data(as_text=True))
    return client.post(
        "/admin/login", data={"username": username, "password": PASSWORD, "csrf_token": token}
    )


# --- at rest ----------------------------------------------------------------------------


def test_api_tokens_are_stored_only_as_their_hash(secret_app: Flask) -> None:
    token = create_token(engine_of(secret_app), role="editor", name=new_id("hashed"))
    with engine_of(secret_app).connect() as conn:
        rows = conn.execute(text("SELECT * FROM api_tokens")).mappings().all()
    stored = [str(value) for row in rows for value in row.values()]
    assert not any(token in value or token[3:] in value for value in stored)
    assert hashlib.sha256(token.encode()).hexdigest() in stored


def test_admin_passwords_are_stored_only_as_a_slow_salted_hash(secret_app: Flask) -> None:
    if not has_admin(secret_app):
        pytest.skip("the admin pages and their users table are not in this build yet")
    first, second = admin_user(secret_app), admin_user(secret_app)
    with engine_of(secret_app).connect() as conn:
        rows = conn.execute(
            text("SELECT username, password_hash FROM users WHERE username IN (:a, :b)"),
            {"a": first, "b": second},
        ).all()
    hashes = [row.password_hash for row in rows]
    assert len(hashes) == 2
    assert all(PASSWORD not in h for h in hashes)
    assert all(h.startswith(("scrypt:", "pbkdf2:", "$argon2", "$2b$")) for h in hashes), hashes
    assert hashes[0] != hashes[1], "the same password must not hash the same twice (no salt)"


# --- in logs ------------------------------------------------------------------------------


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    """Everything every logger writes, in both production formats, at DEBUG."""
    sink = io.StringIO()
    handlers = []
    for formatter in (JsonFormatter(), TextFormatter()):
        handler = logging.StreamHandler(sink)
        handler.setFormatter(formatter)
        handler.setLevel(logging.DEBUG)
        handlers.append(handler)
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.DEBUG)
    for handler in handlers:
        root.addHandler(handler)
    yield sink
    for handler in handlers:
        root.removeHandler(handler)
    root.setLevel(level)


def test_no_token_password_or_session_secret_reaches_the_logs(
    secret_app: Flask, captured_logs: io.StringIO
) -> None:
    client = secret_app.test_client()
    token = create_token(engine_of(secret_app), role="editor", name=new_id("logged"))
    headers = {"Authorization": f"Bearer {token}"}
    _, _, deal_id = new_deal(client, headers)
    client.post(f"/api/v1/deals/{deal_id}/events", json=investment(), headers=headers)
    client.get(f"/api/v1/deals/{deal_id}?token={token}", headers=headers)
    client.get("/api/v1/events", headers={"Authorization": f"Bearer {token}x"})  # 401
    client.get("/api/v1/events", headers={"Authorization": f"Token {token}"})  # malformed
    secrets = [token, SECRET_KEY]
    if has_admin(secret_app):
        browser = secret_app.test_client()
        username = admin_user(secret_app)
        assert sign_in(browser, username).status_code == 302
        session = browser.get_cookie("session")
        assert session is not None
        secrets.append(session.value)
        browser.post("/admin/login", data={"username": username, "password": PASSWORD + "x"})
        secrets.append(PASSWORD)
    written = captured_logs.getvalue()
    assert "GET /api/v1/events 401" in written  # the requests were logged
    for secret in secrets:
        assert secret not in written, "a secret reached the logs"


# --- the admin pages ------------------------------------------------------------------------


@pytest.fixture
def signed_in(secret_app: Flask) -> FlaskClient:
    """A browser signed in to the admin pages as an editor."""
    if not has_admin(secret_app):
        pytest.skip("the admin pages are not in this build yet")
    browser = secret_app.test_client()
    assert sign_in(browser, admin_user(secret_app)).status_code == 302
    return browser


def head(app: Flask) -> int:
    with engine_of(app).connect() as conn:
        return int(conn.execute(text("SELECT coalesce(max(position), 0) FROM events")).scalar_one())


def test_a_cross_site_form_post_to_the_admin_pages_is_refused(
    secret_app: Flask, signed_in: FlaskClient
) -> None:
    form_page = signed_in.get("/admin/organizations/new")
    assert form_page.status_code == 200
    token = csrf_from(form_page.get_data(as_text=True))
    form = {"name": "Forged Holdings", "kind": "company", "id": new_id("forged")}
    before = head(secret_app)
    evil = signed_in.post(
        "/admin/organizations/new",
        data={**form, "csrf_token": token},
        headers={"Origin": "https://evil.example"},
    )
    assert evil.status_code == 403
    tokenless = signed_in.post("/admin/organizations/new", data=form)
    assert tokenless.status_code in (400, 403)
    assert head(secret_app) == before, "a forged form wrote an event"
    same_site = signed_in.post(
        "/admin/organizations/new",
        data={**form, "csrf_token": token, "occurred": "2024-03-27"},
        headers={"Origin": "http://localhost"},
    )
    assert same_site.status_code == 302, same_site.get_data(as_text=True)[:500]
    assert head(secret_app) == before + 1


def test_the_session_cookie_is_httponly_and_samesite(secret_app: Flask) -> None:
    if not has_admin(secret_app):
        pytest.skip("the admin pages are not in this build yet")
    browser = secret_app.test_client()
    response = sign_in(browser, admin_user(secret_app))
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
    flags = {part.strip().split("=")[0].lower(): part for part in cookie.split(";")}
    assert "httponly" in flags
    assert flags.get("samesite", "").split("=")[-1].lower() in ("lax", "strict")


def test_in_production_the_session_cookie_is_also_secure(database_url: str) -> None:
    app = make_app(database_url, DEALTRACKER_ENV="production", SECRET_KEY=SECRET_KEY)
    try:
        if not has_admin(app):
            pytest.skip("the admin pages are not in this build yet")
        assert app.config["SESSION_COOKIE_SECURE"] is True
        assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    finally:
        engine_of(app).dispose()


# --- injection on every query parameter -------------------------------------------------------

INJECTIONS = [
    "' OR '1'='1",
    "'; DROP TABLE events; --",
    "1; SELECT pg_sleep(3)",
    "%",
    "_",
    "\\",
    "$$",
    "-1",
    "99999999999999999999999",
    "1e309",
    "NaN",
    "../../etc/passwd",
    "<script>alert(1)</script>",
    "삼성' OR 'ㄱ'='ㄱ",
    "\x00",
    "eyJhZnRlciI6IicgT1IgMT0xIC0tIn0",  # a cursor holding {"after": "' OR 1=1 --"}
]


def query_targets(org_id: str, deal_id: str) -> list[tuple[str, str]]:
    """Every (path, parameter) pair that takes a query parameter."""
    pairs = [("/api/v1/organizations", p) for p in ("q", "cursor", "limit")]
    pairs += [("/api/v1/deals", p) for p in ("party", "kind", "status", "cursor", "limit")]
    pairs += [("/api/v1/events", p) for p in ("after", "limit", "type", "stream", "cursor")]
    pairs += [(f"/api/v1/deals/{deal_id}", p) for p in ("as_of", "known_at")]
    pairs += [(f"/api/v1/organizations/{org_id}", p) for p in ("as_of", "known_at")]
    pairs += [(f"/api/v1/deals/{deal_id}/events", p) for p in ("known_at", "cursor", "limit")]
    pairs += [(f"/api/v1/organizations/{org_id}/events", p) for p in ("known_at", "cursor")]
    pairs += [("/api/v1/events/stream", p) for p in ("after", "type", "stream", "max_seconds")]
    return pairs


def matches(parameter: str, value: str, item: dict[str, Any]) -> bool:
    """Tell whether a listed item is one the filter asked for."""
    if parameter == "party":
        return value in str(item.get("parties"))
    if parameter in ("kind", "status"):
        return item.get(parameter) == value
    if parameter == "type":
        return item.get("type") == value
    if parameter == "stream":
        return item.get("stream_id") == value
    if parameter == "q":
        return value.casefold() in str(item).casefold()
    return True


def table_census(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        names = conn.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
        ).scalars()
        return {
            name: conn.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one()
            for name in list(names)
            if name != "idempotency_keys"
        }


def test_injection_in_every_query_parameter_is_refused_or_answered_correctly(
    secret_app: Flask,
) -> None:
    client = secret_app.test_client()
    token = create_token(engine_of(secret_app), role="reader", name=new_id("reader"))
    editor = {
        "Authorization": f"Bearer {create_token(engine_of(secret_app), role='editor', name=new_id('ed'))}"
    }
    org_id = register_org(client, editor, "Injection Target")
    _, _, deal_id = new_deal(client, editor)
    headers = {"Authorization": f"Bearer {token}"}
    census = table_census(engine_of(secret_app))
    for path, parameter in query_targets(org_id, deal_id):
        for value in INJECTIONS:
            query = {"max_seconds": "0", parameter: value} if path.endswith("/stream") else {}
            response = client.get(path, query_string=query or {parameter: value}, headers=headers)
            body = response.get_data(as_text=True)
            assert response.status_code < 500, (path, parameter, value, body[:300])
            if response.status_code >= 400:
                assert response.mimetype == "application/problem+json", (path, parameter)
            elif response.mimetype == "application/json" and "items" in (response.get_json() or {}):
                items = response.get_json()["items"]
                assert all(matches(parameter, value, item) for item in items), (
                    path,
                    parameter,
                    value,
                )
    assert table_census(engine_of(secret_app)) == census, "reads changed the tables"


# --- production settings --------------------------------------------------------------------


@pytest.mark.parametrize(
    "secret", [None, DEFAULT_SECRET_KEY, "short"], ids=["missing", "default", "short"]
)
def test_production_refuses_to_start_without_a_real_secret_key(
    database_url: str, monkeypatch: pytest.MonkeyPatch, secret: str | None
) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    config: dict[str, Any] = {"DATABASE_URL": database_url, "DEALTRACKER_ENV": "production"}
    if secret is not None:
        config["SECRET_KEY"] = secret
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app(config)
    settings = Settings(database_url=database_url, env="production", secret_key=secret or "")
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app(settings)


@pytest.mark.parametrize("secret", [None, DEFAULT_SECRET_KEY], ids=["missing", "default"])
def test_production_commands_and_gunicorn_refuse_to_start_without_a_real_secret_key(
    database_url: str, secret: str | None
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env.update(DATABASE_URL=database_url, DEALTRACKER_ENV="production")
    if secret is not None:
        env["SECRET_KEY"] = secret
    for command in (
        [sys.executable, "-m", "app.cli", "db", "url"],
        [sys.executable, "-c", "import app.gunicorn_conf"],
    ):
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 2, (command, done.stdout, done.stderr)
        assert "SECRET_KEY" in done.stderr
        assert "Traceback" not in done.stderr
