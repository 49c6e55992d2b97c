"""PostgreSQL stopped for ten seconds under load: quick 503s, /readyz not ready, and recovery on its own."""

from __future__ import annotations

import http.client
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from tests.reliability.conftest import seconds_from_env
from tests.reliability.harness import (
    Gunicorn,
    PrivatePostgres,
    Reply,
    assert_log_is_whole,
    assert_read_models_equal_a_rebuild,
    call,
    engine_on,
    events_by_marker,
)
from tests.reliability.writers import (
    acknowledged_ids,
    editor_headers,
    new_write,
    open_deals,
    send,
    settle,
)

OUTAGE_SECONDS = seconds_from_env("RELIABILITY_OUTAGE_SECONDS", 10)
MAX_LATENCY_SECONDS = 5
RECOVERY_SECONDS = 5
LEAKS = ("Traceback", "psycopg", "sqlalchemy", "SELECT ", "INSERT ", 'File "')


@dataclass
class Probe:
    """One request during the run: when it was sent, what it was, and what came back."""

    sent_at: float
    what: str
    reply: Reply | None
    error: str | None = None


def probe_loop(
    base: str, headers: dict[str, str], deals: list[str], stop: threading.Event, seed: int
) -> tuple[list[Probe], list]:
    """Mix state reads, log reads, readiness checks and keyed writes until stopped."""
    rng = random.Random(seed)
    probes: list[Probe] = []
    writes = []
    while not stop.is_set():
        sent_at = time.monotonic()
        roll = rng.random()
        try:
            if roll < 0.35:
                write = new_write(deals, rng)
                writes.append(write)
                reply = send(base, headers, write, timeout=30)
                what = "write"
                if reply is None:
                    probes.append(Probe(sent_at, what, None, write.errors[-1]))
                    continue
            elif roll < 0.6:
                what = "state"
                reply = call(base, "GET", f"/api/v1/deals/{rng.choice(deals)}", None, headers, 30)
            elif roll < 0.8:
                what = "log"
                reply = call(base, "GET", "/api/v1/events?limit=20", None, headers, 30)
            else:
                what = "readyz"
                reply = call(base, "GET", "/readyz", None, None, 30)
        except (OSError, http.client.HTTPException) as error:
            probes.append(Probe(sent_at, what, None, type(error).__name__))
            continue
        probes.append(Probe(sent_at, what, reply))
        # A client backs off when told to retry later (not for the full Retry-After: the
        # test wants to see the recovery as soon as it happens).
        time.sleep(0.25 if reply.status == 503 else 0.02)
    return probes, writes


def test_postgresql_stopped_for_ten_seconds_gives_quick_503s_and_recovers_without_a_restart(
    private_postgres: PrivatePostgres, gunicorn: Callable[..., Gunicorn]
) -> None:
    url = private_postgres.migrated_database()
    server = gunicorn(url)
    with engine_on(url) as engine:
        headers = editor_headers(engine)
        deals = open_deals(server.base, headers, 4)
        stop = threading.Event()
        results: list[tuple[list[Probe], list]] = []

        def run(seed: int) -> None:
            results.append(probe_loop(server.base, headers, deals, stop, seed))

        threads = [threading.Thread(target=run, args=(seed,)) for seed in range(6)]
        for thread in threads:
            thread.start()
        try:
            time.sleep(2)
            stopped_at = time.monotonic()
            private_postgres.stop("fast")
            time.sleep(OUTAGE_SECONDS)
            private_postgres.start()
            restarted_at = time.monotonic()
            time.sleep(RECOVERY_SECONDS + 3)
        finally:
            stop.set()
            for thread in threads:
                thread.join(60)
        probes = sorted((p for found, _ in results for p in found), key=lambda p: p.sent_at)
        writes = [w for _, found in results for w in found]

        unanswered = [p for p in probes if p.reply is None]
        assert not unanswered, f"requests without an answer: {unanswered[:5]}"
        slow = [p for p in probes if p.reply and p.reply.seconds > MAX_LATENCY_SECONDS]
        assert not slow, f"requests that hung: {[(p.what, p.reply.seconds) for p in slow[:5]]}"
        statuses = {p.reply.status for p in probes if p.reply}
        assert statuses <= {200, 201, 503}, statuses

        unavailable = [p.reply for p in probes if p.reply and p.reply.status == 503]
        assert unavailable, "the outage was not noticed"
        for reply in unavailable:
            assert reply.is_problem, reply.headers
            assert reply.json()["status"] == 503
            assert "retry-after" in reply.headers
            assert not any(leak in reply.body.decode() for leak in LEAKS), reply.body

        during = [p for p in probes if stopped_at + 0.5 < p.sent_at < restarted_at - 0.5]
        assert {p.what for p in during} >= {"write", "state", "readyz"}
        assert all(p.reply and p.reply.status == 503 for p in during), {
            (p.what, p.reply.status) for p in during if p.reply
        }

        settled_by = restarted_at + RECOVERY_SECONDS
        after = [p for p in probes if p.sent_at > settled_by]
        assert after, "no requests were sent after the recovery window"
        assert all(p.reply and p.reply.status in (200, 201) for p in after), [
            (p.what, p.reply.status, p.reply.body[:200]) for p in after if p.reply
        ][:5]

        settle(server.base, headers, writes, timeout=60)
        logged = events_by_marker(engine)
        for write in writes:
            ack = write.acknowledged
            assert ack is not None
            assert sorted(acknowledged_ids(ack)) == sorted(r[0] for r in logged[write.marker])
        assert_log_is_whole(engine)
        assert_read_models_equal_a_rebuild(engine)
        token = headers["Authorization"].split()[1]
        assert token not in server.log(), "the bearer token reached the server's log"
