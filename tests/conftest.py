"""Shared fixtures: a fresh database per test session, built by the migrations."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from app.config import Settings
from app.store import migrate
from app.store.database import libpq_url, make_engine, resolve_database_url
from app.store.eventstore import EventStore


def _server_url() -> str:
    """Return a URL to the server the tests use: DATABASE_URL, or the embedded one."""
    return resolve_database_url(Settings.from_env())


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """Create a fresh database for this test session, migrate it to head, drop it afterwards."""
    server = make_url(_server_url())
    name = f"dt_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = libpq_url(server.set(database="postgres").render_as_string(hide_password=False))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = server.set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url, Settings())
    migrate.upgrade(engine)
    engine.dispose()
    yield url
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    """Settings pointing at the test database."""
    return Settings(database_url=database_url, env="test")


@pytest.fixture(scope="session")
def engine(database_url: str, settings: Settings) -> Iterator[Engine]:
    """An engine on the test database."""
    engine = make_engine(database_url, settings)
    yield engine
    engine.dispose()


@pytest.fixture
def store(engine: Engine) -> EventStore:
    """The event store on the test database."""
    return EventStore(engine)


def new_id(prefix: str = "t") -> str:
    """Return a random slug, so tests never share streams."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"
