"""Where the database is, and the SQLAlchemy engine that talks to it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from app.config import Settings


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
        pool_pre_ping=True,
        pool_timeout=10,
        connect_args=connect_args,
        **kwargs,
    )

    @event.listens_for(engine, "connect")
    def _set_utc(dbapi_conn: Any, _record: Any) -> None:
        with dbapi_conn.cursor() as cur:
            cur.execute("SET TIME ZONE 'UTC'")
        dbapi_conn.commit()

    return engine


def database_name(url: str) -> str:
    """Return the database name of a URL."""
    return make_url(sqlalchemy_url(url)).database or ""
