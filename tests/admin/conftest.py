"""Fixtures for the admin pages: an app on the test database and a signed-in client per role."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from app.admin.accounts import create_user
from app.domain.envelope import NewEvent
from app.service import DealTracker
from tests.conftest import new_id

PASSWORD = "correct horse battery"
DAY = datetime(2025, 1, 10, tzinfo=UTC)
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    """Return the CSRF token a page's forms carry."""
    found = _CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


class Browser:
    """A test client that remembers the last CSRF token, as a browser's forms would."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.csrf = ""

    def get(self, url: str, **kwargs: Any) -> Any:
        """GET a page, keeping its CSRF token."""
        response = self.client.get(url, **kwargs)
        text = response.get_data(as_text=True)
        if _CSRF.search(text):
            self.csrf = csrf_of(text)
        return response

    def post(self, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        """POST a form with the session's CSRF token, as the page would."""
        if not self.csrf:
            self.get("/admin/login")
        response = self.client.post(url, data={"csrf_token": self.csrf, **(data or {})}, **kwargs)
        text = response.get_data(as_text=True)
        if _CSRF.search(text):
            self.csrf = csrf_of(text)
        return response


@pytest.fixture(scope="session")
def app(database_url: str) -> Iterator[Flask]:
    """The app with the admin pages, shared by the admin tests."""
    app = create_app(
        {"DATABASE_URL": database_url, "DEALTRACKER_ENV": "test", "RATE_LIMIT_PER_MINUTE": 0}
    )
    app.config["TESTING"] = True
    yield app
    app.extensions["dealtracker"].engine.dispose()


@pytest.fixture(scope="session")
def users(app: Flask) -> dict[str, str]:
    """One username per role, all with PASSWORD."""
    engine = app.extensions["dealtracker"].engine
    names = {}
    for role in ("reader", "editor", "admin"):
        name = f"{role}-{uuid.uuid4().hex[:8]}"
        create_user(engine, username=name, role=role, password=PASSWORD)
        names[role] = name
    return names


@pytest.fixture
def sign_in(app: Flask, users: dict[str, str]) -> Callable[[str], Browser]:
    """Return a function giving a browser signed in with a role."""

    def signed_in(role: str) -> Browser:
        browser = Browser(app.test_client())
        browser.get("/admin/login")
        response = browser.post("/admin/login", {"username": users[role], "password": PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)
        browser.get("/admin/")  # the session's token changes at sign-in
        return browser

    return signed_in


@pytest.fixture
def editor(sign_in: Callable[[str], Browser]) -> Browser:
    """A browser signed in as an editor."""
    return sign_in("editor")


@pytest.fixture
def anonymous(app: Flask) -> Browser:
    """A browser nobody signed in with."""
    return Browser(app.test_client())


@pytest.fixture
def tracker(app: Flask) -> DealTracker:
    """The application service on the admin app's store, for building test data quickly."""
    return DealTracker(app.extensions["dealtracker"].store)


def register_org(tracker: DealTracker, name: str, aliases: list[str] | None = None) -> str:
    """Register an organization with a random id; return the id."""
    org_id = new_id("org")
    data: dict[str, Any] = {"name": name, "kind": "company", "aliases": aliases or []}
    tracker.append(f"org:{org_id}", NewEvent("organization.registered", data, DAY, "day"))
    return org_id


def open_deal(tracker: DealTracker, investor: str, investee: str) -> str:
    """Open an investment deal between two organizations; return its id."""
    deal_id = new_id("deal")
    data = {
        "kind": "investment",
        "title": f"{investor} invests in {investee}",
        "parties": {"investor": investor, "investee": investee},
    }
    source = {"publisher": "Test Wire", "attribution": "reported"}
    tracker.append(f"deal:{deal_id}", NewEvent("deal.opened", data, DAY, "day", source))
    return deal_id
