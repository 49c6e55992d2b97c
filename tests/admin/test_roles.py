"""Readers look, editors record, admins manage users and API tokens."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from flask import Flask

from app.store.tokens import authenticate
from tests.admin.conftest import PASSWORD, Browser


def test_a_reader_can_look_but_not_record(sign_in: Callable[[str], Browser]) -> None:
    reader = sign_in("reader")
    for page in ("/admin/", "/admin/organizations", "/admin/deals", "/admin/snapshots"):
        assert reader.get(page).status_code == 200, page
    assert reader.get("/admin/organizations/new").status_code == 403
    response = reader.post("/admin/organizations/new", {"name": "Nope", "kind": "company"})
    assert response.status_code == 403
    assert "Register an organization" not in reader.get("/admin/organizations").get_data(
        as_text=True
    )


def test_an_editor_records_but_does_not_manage_users_or_tokens(editor: Browser) -> None:
    assert editor.get("/admin/organizations/new").status_code == 200
    assert editor.get("/admin/users").status_code == 403
    assert editor.get("/admin/tokens").status_code == 403
    assert editor.post("/admin/tokens", {"name": "x", "role": "admin"}).status_code == 403


def test_an_admin_creates_a_user_who_can_then_sign_in(
    app: Flask, sign_in: Callable[[str], Browser]
) -> None:
    admin = sign_in("admin")
    username = f"new-{uuid.uuid4().hex[:6]}"
    response = admin.post(
        "/admin/users", {"username": username, "role": "reader", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert username in admin.get("/admin/users").get_data(as_text=True)
    newcomer = Browser(app.test_client())
    newcomer.get("/admin/login")
    assert (
        newcomer.post("/admin/login", {"username": username, "password": PASSWORD}).status_code
        == 302
    )


def test_a_bad_new_user_shows_errors_next_to_the_fields(sign_in: Callable[[str], Browser]) -> None:
    admin = sign_in("admin")
    response = admin.post(
        "/admin/users", {"username": "Bad Name!", "role": "editor", "password": "short"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="err-username"' in html and 'id="err-password"' in html
    assert 'value="Bad Name!"' in html


def test_an_admin_creates_a_token_shown_once_and_revokes_it(
    app: Flask, sign_in: Callable[[str], Browser]
) -> None:
    admin = sign_in("admin")
    name = f"desk-{uuid.uuid4().hex[:6]}"
    html = admin.post("/admin/tokens", {"name": name, "role": "editor"}).get_data(as_text=True)
    token = re.search(r'id="new-token" type="text" readonly value="([^"]+)"', html)
    assert token is not None
    engine = app.extensions["dealtracker"].engine
    assert authenticate(engine, token.group(1)) is not None
    listing = admin.get("/admin/tokens").get_data(as_text=True)
    assert token.group(1) not in listing  # shown once
    token_id = re.search(rf"<td>{name}</td>.*?/admin/tokens/(\d+)/revoke", listing, re.S)
    assert token_id is not None
    assert admin.post(f"/admin/tokens/{token_id.group(1)}/revoke").status_code == 302
    assert authenticate(engine, token.group(1)) is None
