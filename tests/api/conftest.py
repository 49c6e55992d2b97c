"""Fixtures for the HTTP contract: an app on the test database, a client, and a token per role."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from app.store.tokens import create_token


def make_app(database_url: str, **config: Any) -> Flask:
    """Build an app on the test database; rate limiting is off unless a test turns it on."""
    settings = {"DATABASE_URL": database_url, "DEALTRACKER_ENV": "test", "RATE_LIMIT_PER_MINUTE": 0}
    app = create_app({**settings, **config})
    app.config["TESTING"] = True
    return app


@pytest.fixture(scope="session")
def app(database_url: str) -> Iterator[Flask]:
    """The app, shared by the API tests."""
    app = make_app(database_url)
    yield app
    app.extensions["dealtracker"].engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client of the app."""
    return app.test_client()


def _token(app: Flask, role: str) -> str:
    return create_token(app.extensions["dealtracker"].engine, role=role, name=f"test-{role}")


@pytest.fixture(scope="session")
def reader_token(app: Flask) -> str:
    """A token with the reader role."""
    return _token(app, "reader")


@pytest.fixture(scope="session")
def editor_token(app: Flask) -> str:
    """A token with the editor role."""
    return _token(app, "editor")


@pytest.fixture(scope="session")
def admin_token(app: Flask) -> str:
    """A token with the admin role."""
    return _token(app, "admin")


@pytest.fixture
def editor(editor_token: str) -> dict[str, str]:
    """Authorization headers of an editor."""
    return bearer(editor_token)


@pytest.fixture
def reader(reader_token: str) -> dict[str, str]:
    """Authorization headers of a reader."""
    return bearer(reader_token)


def bearer(token: str) -> dict[str, str]:
    """Return the Authorization header for a token."""
    return {"Authorization": f"Bearer {token}"}
