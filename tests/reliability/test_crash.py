"""Crashes under load: SIGKILL of gunicorn, SIGKILL of PostgreSQL; nothing acknowledged is lost or doubled."""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import Engine

from tests.reliability.harness import (
    Gunicorn,
    PrivatePostgres,
    assert_log_is_whole,
    assert_read_models_equal_a_rebuild,
    engine_on,
    events_by_marker,
)
from tests.reliability.writers import (
    Writers,
    acknowledged_ids,
    editor_headers,
    head,
    open_deals,
    send,
    settle,
)

WRITER_THREADS = 6
CRASHES = 2


def check_every_write(engine: Engine, writers: Writers, headers: dict[str, str], base: str) -> None:
    """Each write is in the log exactly once and whole; a replay with its key answers the same, writing nothing."""
    logged = events_by_marker(engine)
    for write in writers.sent:
        rows = logged.get(write.marker, [])
        ack = write.acknowledged
        assert ack is not None
        assert sorted(acknowledged_ids(ack)) == sorted(r[0] for r in rows), (
            f"{write.path} acknowledged {acknowledged_ids(ack)} but the log holds {rows}"
        )
        assert len(rows) == write.size
    before = head(engine)
    for write in writers.sent[::7]:
        first = write.acknowledged
        assert first is not None
        again = send(base, headers, write)
        assert again is not None
        assert again.status == first.status, again.body
        assert again.json() == first.json()
    assert head(engine) == before, "a replay with a used Idempotency-Key wrote something"


def run_crashes(
    server: Gunicorn, engine: Engine, crash: Callable[[], None], recover: Callable[[], None]
) -> None:
    """Write under load, crash and recover a few times, settle every write, then check the log."""
    headers = editor_headers(engine)
    deals = open_deals(server.base, headers, 4)
    with Writers(server.base, headers, deals, WRITER_THREADS) as writers:
        for _ in range(CRASHES):
            writers.wait_for(40)
            crash()
            time.sleep(0.3)
            recover()
        writers.wait_for(20)
    settle(server.base, headers, writers.sent, timeout=60)
    assert len(writers.sent) > 100
    check_every_write(engine, writers, headers, server.base)
    assert_log_is_whole(engine)
    assert_read_models_equal_a_rebuild(engine)
    token = headers["Authorization"].split()[1]
    assert token not in server.log(), "the bearer token reached the server's log"


def test_sigkill_of_the_server_mid_load_loses_no_acknowledged_event(
    databases, gunicorn: Callable[..., Gunicorn]
) -> None:
    url = databases.migrated()
    server = gunicorn(url)
    with engine_on(url) as engine:
        run_crashes(server, engine, crash=server.kill, recover=server.start)


def test_sigkill_of_postgresql_mid_load_loses_no_acknowledged_event(
    private_postgres: PrivatePostgres, gunicorn: Callable[..., Gunicorn]
) -> None:
    url = private_postgres.migrated_database()
    server = gunicorn(url)
    with engine_on(url) as engine:
        run_crashes(server, engine, crash=private_postgres.kill, recover=private_postgres.start)
