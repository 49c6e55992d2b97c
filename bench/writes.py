"""Write workloads: appends over HTTP and in process, and their raw PostgreSQL references."""

from __future__ import annotations

import itertools
import json
import random
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from app.domain.envelope import NewEvent
from app.service import DealTracker
from app.store.eventstore import EventStore
from bench.database import RAW_TABLE
from bench.server import Client
from bench.timing import Run, Step, run_threads

COLUMNS = (
    "position, event_id, stream_id, version, type, schema_version, data, source, metadata,"
    " occurred_at, occurred_precision, recorded_at"
)
INSERT = (
    f"INSERT INTO {RAW_TABLE} ({COLUMNS}) VALUES (%s, %s, %s, %s, %s, 1, %s, %s, %s, %s, %s, now())"
)
METADATA = {"actor": "bench", "actor_token_id": 1, "client": "Python http.client"}
_positions = itertools.count(1_000_000_000)
_SOURCES = ("Seoul Wire", "연합경제", "Korea Tech Herald", "매일테크")


def report_body(r: random.Random) -> dict[str, Any]:
    """Return a valid investment.reported append, as a newsroom tool would POST it (~400 bytes)."""
    millions = r.choice((20, 50, 120, 350, 750))
    day = f"2025-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}"
    return {
        "type": "investment.reported",
        "occurred_at": f"{day}T00:00:00Z",
        "occurred_precision": "day",
        "data": {
            "status": "completed",
            "amount_basis": "tranche",
            "amount": {"amount": str(millions * 10**6), "currency": "USD"},
            "amount_text": f"${millions} million",
            "instrument": r.choice(("equity", "convertible_note", "debt")),
        },
        "source": {
            "publisher": r.choice(_SOURCES),
            "title": f"추가 투자 유치 — tranche closes {day}",
            "url": f"https://news.example/{uuid.UUID(int=r.getrandbits(128)).hex[:12]}",
            "published_at": day,
            "language": "ko",
            "attribution": "confirmed",
        },
    }


def new_event(body: dict[str, Any]) -> NewEvent:
    """Turn an append body into the NewEvent the in-process appends take."""
    return NewEvent(
        type=body["type"],
        data=body["data"],
        occurred_at=datetime.fromisoformat(body["occurred_at"].replace("Z", "+00:00")),
        occurred_precision=body["occurred_precision"],
        source=body["source"],
        metadata=METADATA,
    )


class RawStreams:
    """Streams of the reference table: each thread writes its own, versions counted locally."""

    def __init__(self, thread: int) -> None:
        self.prefix = f"raw-{uuid.uuid4().hex[:8]}-{thread}"
        self.versions: dict[str, int] = {}
        self.r = random.Random(thread)

    def row(self, body: dict[str, Any]) -> tuple[Any, ...]:
        """Return one reference row shaped like an appended event."""
        stream_id = f"deal:{self.prefix}-{self.r.randrange(500)}"
        version = self.versions[stream_id] = self.versions.get(stream_id, 0) + 1
        occurred = datetime.fromisoformat(body["occurred_at"].replace("Z", "+00:00"))
        return (
            next(_positions),
            uuid.uuid4(),
            stream_id,
            version,
            body["type"],
            body["data"],
            body["source"],
            METADATA,
            occurred,
            body["occurred_precision"],
        )


# --- HTTP --------------------------------------------------------------------------------


def http_single(port: int, token: str, deals: Sequence[str], clients: int, seconds: float) -> Run:
    """POST /api/v1/deals/{id}/events, one event per request, from keep-alive clients."""

    def make(index: int) -> tuple[Step, Callable[[], None]]:
        client, r = Client(port, token), random.Random(100 + index)

        def step() -> int:
            client.json("POST", f"/api/v1/deals/{r.choice(deals)}/events", report_body(r), 201)
            return 1

        return step, client.close

    return run_threads(clients, seconds, make)


def http_floor(port: int, token: str, clients: int, seconds: float) -> Run:
    """GET /healthz from the same keep-alive clients: what gunicorn and Flask cost on their own."""

    def make(_: int) -> tuple[Step, Callable[[], None]]:
        client = Client(port, token)

        def step() -> int:
            status, _ = client.request("GET", "/healthz")
            if status != 200:
                raise RuntimeError(f"GET /healthz: {status}")
            return 1

        return step, client.close

    return run_threads(clients, seconds, make)


def http_batch(
    port: int, token: str, deals: Sequence[str], clients: int, seconds: float, size: int = 100
) -> Run:
    """POST /api/v1/batches of `size` events over a handful of deals (five events each)."""

    def make(index: int) -> tuple[Step, Callable[[], None]]:
        client, r = Client(port, token), random.Random(200 + index)

        def step() -> int:
            chosen = r.sample(deals, max(1, size // 5))
            events = [
                {"stream_id": f"deal:{chosen[i % len(chosen)]}", **report_body(r)}
                for i in range(size)
            ]
            client.json("POST", "/api/v1/batches", {"events": events}, 201)
            return size

        return step, client.close

    return run_threads(clients, seconds, make)


# --- raw PostgreSQL ----------------------------------------------------------------------


def raw_single(url: str, clients: int, seconds: float) -> Run:
    """Single-row INSERT transactions into the reference table."""
    return _raw(url, clients, seconds, 1, lambda cur, rows: cur.execute(INSERT, rows[0]))


def raw_executemany(url: str, clients: int, seconds: float, size: int = 100) -> Run:
    """executemany of `size` rows per transaction into the reference table."""
    return _raw(url, clients, seconds, size, lambda cur, rows: cur.executemany(INSERT, rows))


def raw_copy(url: str, clients: int, seconds: float, size: int = 100) -> Run:
    """COPY of `size` rows per transaction into the reference table: PostgreSQL's own limit."""

    def copy(cur: psycopg.Cursor[Any], rows: list[tuple[Any, ...]]) -> None:
        with cur.copy(f"COPY {RAW_TABLE} ({COLUMNS}) FROM STDIN") as copier:
            now = datetime.now(UTC)
            for row in rows:
                copier.write_row((*row[:5], 1, *row[5:], now))

    return _raw(url, clients, seconds, size, copy, as_text=True)


def _raw(
    url: str,
    clients: int,
    seconds: float,
    size: int,
    write: Callable[[Any, list[tuple[Any, ...]]], None],
    as_text: bool = False,
) -> Run:
    wrap: Callable[[Any], Any] = _json_text if as_text else Jsonb

    def make(index: int) -> tuple[Step, Callable[[], None]]:
        conn = psycopg.connect(url)
        streams, r = RawStreams(index), random.Random(300 + index)

        def step() -> int:
            rows = [streams.row(report_body(r)) for _ in range(size)]
            rows = [tuple(wrap(v) if isinstance(v, dict) else v for v in row) for row in rows]
            with conn.transaction(), conn.cursor() as cur:
                write(cur, rows)
            return size

        return step, conn.close

    return run_threads(clients, seconds, make)


def _json_text(value: dict[str, Any]) -> str:
    return json.dumps(value, ensure_ascii=False)


# --- in process --------------------------------------------------------------------------


def store_append(store: EventStore, deals: Sequence[str], seconds: float) -> Run:
    """EventStore.append: one event per transaction, no validation, no read models."""
    r = random.Random(400)

    def make(_: int) -> tuple[Step, Callable[[], None]]:
        def step() -> int:
            store.append(f"deal:{r.choice(deals)}", [new_event(report_body(r))])
            return 1

        return step, lambda: None

    return run_threads(1, seconds, make)


def tracker_append(tracker: DealTracker, deals: Sequence[str], seconds: float) -> Run:
    """DealTracker.append: validated against the stream, appended and projected, one transaction."""
    r = random.Random(500)

    def make(_: int) -> tuple[Step, Callable[[], None]]:
        def step() -> int:
            tracker.append(f"deal:{r.choice(deals)}", new_event(report_body(r)))
            return 1

        return step, lambda: None

    return run_threads(1, seconds, make)
