"""Read workloads: the global log over HTTP and raw, and deal state latencies."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import psycopg

from bench.server import Client
from bench.timing import Run, Step, harness_gc_quiet, run_threads
from bench.writes import COLUMNS

PAGE = 500


def log_http(port: int, token: str, head: int, clients: int, seconds: float) -> Run:
    """Page through GET /api/v1/events?after=&limit=500, each client from its own part of the log."""

    def make(index: int) -> tuple[Step, Callable[[], None]]:
        client, after = Client(port, token), head * index // clients

        def step() -> int:
            nonlocal after
            status, raw = client.request("GET", f"/api/v1/events?after={after}&limit={PAGE}")
            if status != 200:
                raise RuntimeError(f"GET /api/v1/events: {status} {raw[:300]!r}")
            items = json.loads(raw)["items"]
            after = items[-1]["position"] if len(items) == PAGE else 0
            return len(items)

        return step, client.close

    return run_threads(clients, seconds, make)


def log_raw(url: str, head: int, clients: int, seconds: float) -> Run:
    """Keyset pages of SELECT … ORDER BY position LIMIT 500, JSON decoded by psycopg."""
    sql = f"SELECT {COLUMNS} FROM events WHERE position > %s ORDER BY position LIMIT {PAGE}"

    def make(index: int) -> tuple[Step, Callable[[], None]]:
        conn = psycopg.connect(url, autocommit=True)
        after = head * index // clients

        def step() -> int:
            nonlocal after
            rows = conn.execute(sql, (after,)).fetchall()
            after = rows[-1][0] if len(rows) == PAGE else 0
            return len(rows)

        return step, conn.close

    return run_threads(clients, seconds, make)


@dataclass
class StateReads:
    """Latencies of one kind of deal state question."""

    cold_ms: float
    run: Run


def deal_state(
    port: int, token: str, deal_id: str, queries: Sequence[str], requests: int
) -> StateReads:
    """Ask each question once (cold), then `requests` more in turn on one keep-alive client."""
    client = Client(port, token)
    try:
        cold = 0.0
        for query in queries:
            started = time.perf_counter()
            client.json("GET", f"/api/v1/deals/{deal_id}{query}")
            cold = max(cold, time.perf_counter() - started)
        run = Run(0, 0.0)
        with harness_gc_quiet():
            run.seconds = _timed_requests(client, deal_id, queries, requests, run)
        return StateReads(cold * 1000, run)
    finally:
        client.close()


def _timed_requests(
    client: Client, deal_id: str, queries: Sequence[str], requests: int, run: Run
) -> float:
    """Send `requests` state reads in turn, recording each latency; return the time taken."""
    began = time.perf_counter()
    for index in range(requests):
        started = time.perf_counter()
        status, raw = client.request(
            "GET", f"/api/v1/deals/{deal_id}{queries[index % len(queries)]}"
        )
        run.latencies.append(time.perf_counter() - started)
        if status != 200:
            raise RuntimeError(f"GET /api/v1/deals/{deal_id}: {status} {raw[:300]!r}")
        run.units += 1
    return time.perf_counter() - began
