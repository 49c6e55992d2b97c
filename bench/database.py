"""The benchmark's own database: created fresh on the configured server, migrated, dropped at the end."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass

import psycopg
from psycopg import sql
from sqlalchemy import Engine
from sqlalchemy.engine import URL, make_url

from app.config import Settings
from app.store import migrate
from app.store.database import libpq_url, make_engine, resolve_database_url

RAW_TABLE = "bench_raw"


@dataclass(frozen=True)
class BenchDatabase:
    """A database of its own on the server the service would use (embedded or DATABASE_URL)."""

    name: str
    server: URL
    embedded: bool

    @property
    def url(self) -> str:
        """Return the SQLAlchemy URL of the benchmark database."""
        return self.server.set(database=self.name).render_as_string(hide_password=False)

    @property
    def libpq(self) -> str:
        """Return the plain libpq URL (psycopg, psql, gunicorn's DATABASE_URL)."""
        return libpq_url(self.url)

    def admin(self) -> str:
        """Return the URL of the server's maintenance database."""
        return libpq_url(self.server.set(database="postgres").render_as_string(hide_password=False))

    def postgres_env(self) -> dict[str, str]:
        """Return the POSTGRES_* settings the eventsourcing library reads."""
        url = self.server
        # The embedded server listens on a Unix socket, given as ?host=/path/to/dir.
        host = url.host or str(url.query.get("host") or "localhost")
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": self.name,
            "POSTGRES_HOST": host,
            "POSTGRES_PORT": str(url.port or 5432),
            "POSTGRES_USER": url.username or "postgres",
            "POSTGRES_PASSWORD": url.password or "",
        }

    def server_version(self) -> str:
        """Return PostgreSQL's version string."""
        with psycopg.connect(self.libpq) as conn:
            row = conn.execute("SHOW server_version").fetchone()
        return str(row[0]) if row else "?"

    def drop(self) -> None:
        """Drop the database, closing whatever is still connected to it."""
        with psycopg.connect(self.admin(), autocommit=True) as conn:
            statement = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            conn.execute(statement.format(sql.Identifier(self.name)))


def create_database(settings: Settings) -> BenchDatabase:
    """Create `bench_<random>` on the configured server and migrate it to head."""
    server = make_url(resolve_database_url(settings))
    found = BenchDatabase(f"bench_{uuid.uuid4().hex[:10]}", server, not settings.database_url)
    with psycopg.connect(found.admin(), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(found.name)))
    engine = open_engine(found)
    try:
        migrate.upgrade(engine)
        with engine.begin() as conn:
            # The reference table: the same columns, keys and indexes, but no immutability trigger.
            conn.exec_driver_sql(f"CREATE TABLE {RAW_TABLE} (LIKE events INCLUDING ALL)")
    finally:
        engine.dispose()
    return found


def open_engine(database: BenchDatabase, pool_size: int = 8) -> Engine:
    """Return an engine on the benchmark database, configured as the service's own."""
    settings = Settings(database_url=database.url, pool_size=pool_size)
    return make_engine(database.url, settings)


def machine() -> dict[str, str]:
    """Describe the machine: cores, memory, load."""
    memory = "?"
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            kib = int(meminfo.readline().split()[1])
        memory = f"{kib / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {
        "cores": str(os.cpu_count()),
        "memory": memory,
        "load_before": " ".join(f"{x:.2f}" for x in load),
    }
