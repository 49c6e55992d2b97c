"""Shared fixtures: fresh databases on the test server, built by the migrations."""

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


class Databases:
    """Creates and drops the test session's databases on one server (DATABASE_URL or embedded)."""

    def __init__(self) -> None:
        self.server = make_url(resolve_database_url(Settings.from_env()))
        admin = self.server.set(database="postgres").render_as_string(hide_password=False)
        self.admin = libpq_url(admin)
        self.prefix = f"dt_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        self.created: list[str] = []
        self.template: str | None = None

    def url(self, name: str) -> str:
        """Return the URL of a database on the server."""
        return self.server.set(database=name).render_as_string(hide_password=False)

    def create(self, template: str | None = None) -> str:
        """Create an empty (or templated) database and return its URL."""
        name = f"{self.prefix}_{len(self.created)}"
        statement = "CREATE DATABASE {}" + (" TEMPLATE {}" if template else "")
        names = [sql.Identifier(name)] + ([sql.Identifier(template)] if template else [])
        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(sql.SQL(statement).format(*names))
        self.created.append(name)
        return self.url(name)

    def migrated(self) -> str:
        """Return the URL of a fresh database at head, copied from a migrated template."""
        if self.template is None:
            url = self.create()
            engine = make_engine(url, Settings())
            migrate.upgrade(engine)
            engine.dispose()
            self.template = self.created[-1]
        return self.create(template=self.template)

    def drop_all(self) -> None:
        """Drop every database this session made."""
        with psycopg.connect(self.admin, autocommit=True) as conn:
            for name in reversed(self.created):
                statement = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
                conn.execute(statement.format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def databases() -> Iterator[Databases]:
    """The session's database factory; everything it made is dropped at the end."""
    factory = Databases()
    yield factory
    factory.drop_all()


@pytest.fixture(scope="session")
def database_url(databases: Databases) -> str:
    """A database shared by the session's tests (each test uses its own random ids)."""
    return databases.migrated()


@pytest.fixture
def fresh_database_url(databases: Databases) -> str:
    """A database of its own, for a test that needs an empty log (an injected clock in the past)."""
    return databases.migrated()


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    """Settings pointing at the shared test database."""
    return Settings(database_url=database_url, env="test")


@pytest.fixture(scope="session")
def engine(database_url: str, settings: Settings) -> Iterator[Engine]:
    """An engine on the shared test database."""
    engine = make_engine(database_url, settings)
    yield engine
    engine.dispose()


@pytest.fixture
def store(engine: Engine) -> EventStore:
    """The event store on the shared test database."""
    return EventStore(engine)


def new_id(prefix: str = "t") -> str:
    """Return a random slug, so tests never share streams."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"
