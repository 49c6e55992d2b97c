"""Alembic, driven from code: upgrade to head and tell whether a database is at head."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent.parent / "migrations"


def alembic_config(engine: Engine | None = None, url: str | None = None) -> Config:
    """Return an Alembic config pointing at migrations/ and the given database."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to `revision`, serialised across processes by an advisory lock."""
    with engine.begin() as conn:
        # Two processes starting at once must not both create the schema.
        conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7311001)")
        config = alembic_config()
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Revert migrations down to `revision`."""
    with engine.begin() as conn:
        conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7311001)")
        config = alembic_config()
        config.attributes["connection"] = conn
        command.downgrade(config, revision)


@lru_cache(maxsize=1)
def head_revision() -> str | None:
    """Return the newest revision in migrations/ (read once: /readyz asks on every probe)."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """Return the revision the database is at, or None for an empty database."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def is_at_head(engine: Engine) -> bool:
    """Tell whether the database schema is at the newest revision."""
    return current_revision(engine) == head_revision()
