"""Where the database is, and the SQLAlchemy engine that talks to it."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError

from app.config import Settings

PING_AFTER_IDLE_SECONDS = 1.0


def sqlalchemy_url(url: str) -> str:
    """Return the URL with the psycopg 3 driver, accepting postgresql:// and postgres://."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    raise ValueError(f"not a PostgreSQL URL: {url!r}")


def libpq_url(url: str) -> str:
    """Return the URL in the plain form psql and psycopg accept."""
    return "postgresql://" + sqlalchemy_url(url)[len("postgresql+psycopg://") :]


def resolve_database_url(settings: Settings) -> str:
    """Return the configured DATABASE_URL, or start the embedded server and return its URL."""
    if settings.database_url:
        return sqlalchemy_url(settings.database_url)
    from app.store.embedded import embedded_url

    return sqlalchemy_url(embedded_url(settings.data_dir))


def make_engine(url: str, settings: Settings, **kwargs: Any) -> Engine:
    """Create the engine with pool and timeouts from the settings."""
    connect_args = {
        "connect_timeout": 5,
        "options": f"-c statement_timeout={settings.statement_timeout_ms}",
        "application_name": "dealtracker",
    }
    engine = create_engine(
        sqlalchemy_url(url),
        pool_size=settings.pool_size,
        max_overflow=settings.pool_size,
        pool_timeout=10,
        connect_args=connect_args,
        **kwargs,
    )

    @event.listens_for(engine, "connect")
    def _set_utc(dbapi_conn: Any, _record: Any) -> None:
        with dbapi_conn.cursor() as cur:
            cur.execute("SET TIME ZONE 'UTC'")
        dbapi_conn.commit()

    @event.listens_for(engine, "checkin")
    def _note_idle(_dbapi_conn: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        # A ping on every checkout was a round trip on every request. A connection used
        # within the last second is alive but for a crash in that second: the request that
        # uses it fails (503) and the connection is discarded (through an SQLAlchemy
        # Connection, the disconnect makes it replace every pooled connection too).
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as error:
            raise DisconnectionError(f"the pooled connection is dead: {error}") from error

    return engine


def reading(engine: Engine) -> Connection:
    """Open a connection for reads: each statement on its own, without BEGIN and ROLLBACK.

    Under READ COMMITTED every statement takes its own snapshot anyway, so a read-only
    transaction bought nothing but two more round trips.
    """
    return engine.connect().execution_options(isolation_level="AUTOCOMMIT")


def database_name(url: str) -> str:
    """Return the database name of a URL."""
    return make_url(sqlalchemy_url(url)).database or ""
