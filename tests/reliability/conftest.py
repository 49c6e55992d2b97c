"""Fixtures that run the real server and a PostgreSQL the tests may kill."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.store.tokens import create_token
from tests.api.conftest import make_app
from tests.reliability.harness import Gunicorn, PrivatePostgres


@pytest.fixture(scope="session")
def private_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivatePostgres]:
    """An embedded PostgreSQL of this session alone, in a temporary directory; stopped at the end."""
    server = PrivatePostgres(tmp_path_factory.mktemp("private-pg") / "pg")
    server.start()
    yield server
    if server.postmaster_pid() is not None:
        server.stop("immediate")


@pytest.fixture
def gunicorn(tmp_path: Path) -> Iterator[Callable[..., Gunicorn]]:
    """Start gunicorn on a database (the factory's argument); every one started is stopped after."""
    started: list[Gunicorn] = []

    def start(database_url: str, **env: str) -> Gunicorn:
        server = Gunicorn(database_url, tmp_path / f"gunicorn-{len(started)}", **env)
        server.workdir.mkdir(parents=True, exist_ok=True)
        started.append(server)
        server.start()
        return server

    yield start
    for server in started:
        server.stop()


def seconds_from_env(name: str, default: float) -> float:
    """Return a duration from the environment, for runs longer than CI's."""
    return float(os.environ.get(name, default))


@pytest.fixture(scope="session")
def app(database_url: str) -> Iterator[Flask]:
    """The app on the shared test database, through Flask's test client (rate limits off)."""
    app = make_app(database_url)
    yield app
    app.extensions["dealtracker"].engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client of the app."""
    return app.test_client()


@pytest.fixture(scope="session")
def editor(app: Flask) -> dict[str, str]:
    """Authorization headers of an editor."""
    token = create_token(app.extensions["dealtracker"].engine, role="editor", name="rel-editor")
    return {"Authorization": f"Bearer {token}"}
