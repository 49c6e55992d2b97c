"""The two-command start: the embedded server from an empty directory, `db upgrade`, `db url`, tokens."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from app.store.embedded import stop_embedded


def dealtracker(*args: str, env: dict[str, str]) -> str:
    """Run the console script and return its standard output."""
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def embedded_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """An environment whose data directory starts empty and has no DATABASE_URL."""
    data_dir = tmp_path_factory.mktemp("embedded")
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["DEALTRACKER_DATA_DIR"] = str(data_dir)
    yield env
    stop_embedded(Path(data_dir))


def test_embedded_server_starts_from_an_empty_directory_and_db_url_is_usable(
    embedded_env: dict[str, str],
) -> None:
    dealtracker("db", "upgrade", env=embedded_env)
    url = dealtracker("db", "url", env=embedded_env).strip().splitlines()[-1]
    assert url.startswith("postgresql://")
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM events").fetchone() == (0,)


def test_events_table_rejects_update_delete_truncate_through_db_url(
    embedded_env: dict[str, str],
) -> None:
    dealtracker("db", "upgrade", env=embedded_env)
    url = dealtracker("db", "url", env=embedded_env).strip().splitlines()[-1]
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in ("UPDATE events SET type = 'x'", "DELETE FROM events", "TRUNCATE events"):
            with pytest.raises(psycopg.Error, match="immutable"):
                conn.execute(statement)


def test_tokens_create_prints_the_token_once_and_stores_only_its_hash(
    embedded_env: dict[str, str],
) -> None:
    dealtracker("db", "upgrade", env=embedded_env)
    token = dealtracker("tokens", "create", "--role", "editor", "--name", "desk", env=embedded_env)
    token = token.strip().splitlines()[-1]
    assert len(token) >= 43
    url = dealtracker("db", "url", env=embedded_env).strip().splitlines()[-1]
    with psycopg.connect(url) as conn:
        stored = [row[0] for row in conn.execute("SELECT token_hash FROM api_tokens")]
    assert stored and token not in stored
    assert all(len(h) == 64 for h in stored)
