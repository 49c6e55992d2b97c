"""Signing in and out: slow password hashes, session cookie flags, CSRF on every form."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from app import create_app
from app.admin.accounts import authenticate, create_user, set_disabled
from tests.admin.conftest import PASSWORD, Browser


def test_sign_in_sets_an_httponly_samesite_lax_session_cookie(
    anonymous: Browser, users: dict[str, str]
) -> None:
    anonymous.get("/admin/login")
    response = anonymous.post("/admin/login", {"username": users["editor"], "password": PASSWORD})
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # only in production, served over HTTPS


def test_session_cookie_is_secure_in_production(database_url: str) -> None:
    app = create_app(
        {
            "DATABASE_URL": database_url,
            "DEALTRACKER_ENV": "production",
            "SECRET_KEY": "s" * 40,
        }
    )
    assert app.config["SESSION_COOKIE_SECURE"] is True
    app.extensions["dealtracker"].engine.dispose()


def test_wrong_password_is_refused_with_the_error_next_to_the_field(
    anonymous: Browser, users: dict[str, str]
) -> None:
    anonymous.get("/admin/login")
    response = anonymous.post("/admin/login", {"username": users["editor"], "password": "nope"})
    html = response.get_data(as_text=True)
    assert response.status_code == 401
    assert 'id="err-password"' in html and "Wrong username or password" in html
    assert f'value="{users["editor"]}"' in html  # the username is kept


def test_passwords_are_stored_as_slow_hashes(app: Flask) -> None:
    engine = app.extensions["dealtracker"].engine
    user = create_user(
        engine, username="Hash-Check-" + PASSWORD[:3], role="reader", password=PASSWORD
    )
    with engine.connect() as conn:
        from sqlalchemy import text

        stored = conn.execute(
            text("SELECT password_hash FROM users WHERE id = :id"), {"id": user.id}
        ).scalar_one()
    assert stored.startswith("scrypt:") and PASSWORD not in stored
    assert user.username == "hash-check-cor"  # usernames are lowercase
    assert authenticate(engine, "HASH-CHECK-COR", PASSWORD) is not None


def test_pages_need_a_signed_in_user(anonymous: Browser) -> None:
    response = anonymous.get("/admin/deals?kind=investment")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/admin/login?next=")


def test_sign_in_returns_to_the_page_asked_for_but_never_off_site(
    app: Flask, users: dict[str, str]
) -> None:
    form = {"username": users["reader"], "password": PASSWORD}
    for asked, landing in (
        ("/admin/deals", "/admin/deals"),
        ("https://evil.example/admin", "/admin/"),
        ("//evil.example/admin", "/admin/"),
    ):
        browser = Browser(app.test_client())
        browser.get("/admin/login")
        response = browser.post("/admin/login", {**form, "next": asked})
        assert response.headers["Location"] == landing


def test_a_post_without_the_csrf_token_is_refused(editor: Browser) -> None:
    response = editor.client.post(
        "/admin/organizations/new", data={"name": "Forged", "kind": "company"}
    )
    assert response.status_code == 400
    response = editor.client.post(
        "/admin/organizations/new",
        data={"csrf_token": "not-the-token", "name": "Forged", "kind": "company"},
    )
    assert response.status_code == 400


def test_a_cross_site_post_is_refused_even_with_a_token(editor: Browser) -> None:
    response = editor.client.post(
        "/admin/organizations/new",
        data={"csrf_token": editor.csrf, "name": "Forged", "kind": "company"},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403


def test_sign_in_itself_needs_the_csrf_token(anonymous: Browser, users: dict[str, str]) -> None:
    response = anonymous.client.post(
        "/admin/login", data={"username": users["editor"], "password": PASSWORD}
    )
    assert response.status_code == 400


def test_sign_out_ends_the_session(editor: Browser) -> None:
    assert editor.client.get("/admin/logout").status_code == 405  # a link cannot sign you out
    response = editor.post("/admin/logout")
    assert response.status_code == 302
    assert editor.get("/admin/deals").status_code == 302


def test_disabling_a_user_ends_their_sessions(
    app: Flask, sign_in: Callable[[str], Browser]
) -> None:
    engine = app.extensions["dealtracker"].engine
    user = create_user(
        engine, username=f"leaver-{id(app) % 10000}", role="editor", password=PASSWORD
    )
    browser = Browser(app.test_client())
    browser.get("/admin/login")
    browser.post("/admin/login", {"username": user.username, "password": PASSWORD})
    assert browser.get("/admin/deals").status_code == 200
    set_disabled(engine, user.id, True)
    assert browser.get("/admin/deals").status_code == 302
    assert authenticate(engine, user.username, PASSWORD) is None
