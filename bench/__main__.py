"""`python -m bench`: dealtracker against raw PostgreSQL and the eventsourcing library, one table.

Creates `bench_<random>` on the service's server (embedded by default, DATABASE_URL's if set),
loads a generated event mix, measures every row against its reference in the same run,
prints one Markdown table (and --json FILE), and drops the database.
"""

from __future__ import annotations

import argparse
import itertools
import math
import sys
import time
from pathlib import Path
from typing import Any

from app.config import Settings
from app.projections.rebuild import rebuild
from app.service import DealTracker
from app.store.eventstore import EventStore
from app.store.tokens import create_token
from bench import reads, reference_es, replay, writes
from bench.database import BenchDatabase, create_database, machine, open_engine
from bench.generate import EventMix
from bench.load import Timeline, interleave, load
from bench.report import Row, render, throughput, write_json
from bench.server import Server

DEAL_SIZES = (10, 1_000, 10_000)
# The table's order: the issue's.
ROW_ORDER = (
    "single append over",
    "single append, framework",
    "batch append over",
    "batch append,",
    "in-process append (",
    "in-process append,",
    "full rebuild",
    "global log",
    "deal state",
)
SMALL_STORE = 10_000
P99_TARGET_MS = 20.0


def parse(argv: list[str] | None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--events", type=int, default=100_000, help="other events in the store (default 100,000)"
    )
    parser.add_argument("--json", type=Path, help="also write the table as JSON to this file")
    parser.add_argument(
        "--seconds", type=float, help="length of each timed run (default: 5, 1 below 50,000 events)"
    )
    parser.add_argument(
        "--requests",
        type=int,
        help="state reads per question kind (default 150, 20 below 50,000 events)",
    )
    parser.add_argument(
        "--clients", type=int, default=4, help="concurrent HTTP clients / raw connections"
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (WEB_CONCURRENCY)")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument(
        "--batch-size", type=int, default=5000, help="events per bulk-load transaction"
    )
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    small_run = args.events < 50_000
    args.seconds = args.seconds or (1.0 if small_run else 5.0)
    args.requests = args.requests or (20 if small_run else 150)
    return args


def log(message: str, started: list[float] = [time.perf_counter()]) -> None:  # noqa: B006
    """Report progress on stderr, with the time since the start."""
    print(f"[{time.perf_counter() - started[0]:6.1f}s] {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its table."""
    args = parse(argv)
    context: dict[str, Any] = {
        "machine": machine(),
        "command": "python -m bench " + " ".join(argv or sys.argv[1:]),
    }
    database = create_database(Settings.from_env())
    log(f"database {database.name} ({'embedded' if database.embedded else 'server'})")
    try:
        rows = run(args, database, context)
    finally:
        database.drop()
    rows.sort(key=lambda row: next(i for i, p in enumerate(ROW_ORDER) if row.name.startswith(p)))
    print(render(rows))
    if args.json:
        write_json(args.json, rows, context)
    return 0


def run(args: argparse.Namespace, database: BenchDatabase, context: dict[str, Any]) -> list[Row]:
    """Load, measure and return the rows."""
    engine = open_engine(database)
    store = EventStore(engine)
    sizes = sorted({min(size, max(10, args.events)) for size in DEAL_SIZES})
    small = min(SMALL_STORE, args.events // 10)
    context.update(
        postgresql=database.server_version(),
        server="embedded" if database.embedded else "DATABASE_URL",
        other_events=args.events,
        small_store_other_events=small,
        deal_sizes=sizes,
        seconds_per_run=args.seconds,
        clients=args.clients,
        gunicorn_workers=args.workers,
        gunicorn_threads=args.threads,
    )
    mix = EventMix(args.seed)
    timeline = Timeline(math.ceil((args.events + sum(sizes)) / args.batch_size) + 4)
    others = mix.others(args.events)
    prefix = list(itertools.islice(others, min(200, small)))
    subjects = {size: mix.subject(f"subject-{size}", size) for size in sizes}
    prefix += [next(stream) for stream in subjects.values()]
    phase_one = interleave(
        args.seed,
        iter(prefix),
        *((stream, size - 1) for size, stream in subjects.items()),
        (others, small - min(200, small)),
    )
    loaded = load(store, phase_one, timeline, args.batch_size)
    rebuild(store)
    log(f"loaded {loaded:,} events (subject deals {sizes} and {small:,} others)")
    known = [timeline.moments[int(i * (len(timeline.moments) - 1) / 3)] for i in range(4)]
    questions = {
        "current": [""],
        "as_of": [f"?as_of={year}-01-01T00:00:00Z" for year in (2017, 2019, 2021, 2023)],
        "known_at": [f"?known_at={moment.strftime('%Y-%m-%dT%H:%M:%SZ')}" for moment in known],
    }
    server = Server(database.libpq, args.workers, args.threads)
    try:
        token = create_token(engine, role="editor", name="bench")
        before = state_reads(server.port, token, sizes, questions, args.requests)
        log("state reads with the small store")

        loaded += load(store, others, timeline, args.batch_size)
        log(f"loaded {loaded:,} events in all")
        ours = replay.rebuild_in_child(database.libpq)
        raw = replay.raw_read(database.libpq)
        rows = [rebuild_row(ours, raw, args.events)]
        log("rebuild")

        after = state_reads(server.port, token, sizes, questions, args.requests)
        rows += state_rows(before, after, sizes, small, args.events)
        log("state reads with the full store")

        head = store.head_position()
        ours_log = reads.log_http(server.port, token, head, args.clients, args.seconds)
        raw_log = reads.log_raw(database.libpq, head, args.clients, args.seconds)
        rows.append(
            throughput(
                "global log read (pages of 500)",
                ours_log.rate,
                raw_log.rate,
                "raw keyset SELECT",
                "events/s",
                0.5,
            )
        )
        log("log reads")

        deals = [
            deal
            for deal, kind in mix.deal_ids
            if kind == "investment" and not deal.startswith("subject-")
        ]
        rows += write_rows(args, database, server.port, token, deals, store)
    finally:
        server.stop()
        engine.dispose()
    return rows


def write_rows(
    args: argparse.Namespace,
    database: BenchDatabase,
    port: int,
    token: str,
    deals: list[str],
    store: EventStore,
) -> list[Row]:
    """Measure appends over HTTP and in process against their references."""
    clients, seconds = args.clients, args.seconds
    single = writes.http_single(port, token, deals, clients, seconds)
    raw_single = writes.raw_single(database.libpq, clients, seconds)
    rows = [
        throughput(
            "single append over HTTP",
            single.rate,
            raw_single.rate,
            "raw INSERT",
            "events/s",
            0.5,
            p50_ms=single.percentile(50),
            p99_ms=single.percentile(99),
        )
    ]
    floor = writes.http_floor(port, token, clients, seconds)
    rows.append(
        throughput(
            "single append, framework floor: GET /healthz",
            floor.rate,
            raw_single.rate,
            "raw INSERT",
            "requests/s",
            None,
            p50_ms=floor.percentile(50),
        )
    )
    log("single appends")
    batch = writes.http_batch(port, token, deals, clients, seconds)
    many = writes.raw_executemany(database.libpq, clients, seconds)
    copy = writes.raw_copy(database.libpq, clients, seconds)
    rows.append(
        throughput(
            "batch append over HTTP (100 a batch)",
            batch.rate,
            many.rate,
            "raw executemany",
            "events/s",
            0.5,
        )
    )
    rows.append(
        throughput("batch append, physical limit", batch.rate, copy.rate, "COPY", "events/s", None)
    )
    log("batch appends")
    reference = reference_es.run(database.postgres_env(), seconds)
    ours = writes.store_append(store, deals, seconds)
    tracked = writes.tracker_append(DealTracker(store), deals, seconds)
    rows.append(
        throughput(
            "in-process append (EventStore.append)",
            ours.rate,
            reference.rate,
            "eventsourcing",
            "events/s",
            2,
        )
    )
    rows.append(
        throughput(
            "in-process append, validated + projected (DealTracker.append)",
            tracked.rate,
            reference.rate,
            "eventsourcing",
            "events/s",
            None,
        )
    )
    log("in-process appends")
    return rows


def rebuild_row(ours: replay.Replay, raw: replay.Replay, events: int) -> Row:
    """Compare the rebuild's rate with a raw read; check its peak memory at a million events."""
    row = throughput(
        "full rebuild of read models",
        ours.events / ours.seconds,
        raw.events / raw.seconds,
        "raw cursor read + JSON decode",
        "events/s",
        0.3,
        events=ours.events,
        peak_rss_mb=ours.peak_rss_mb,
    )
    row.ours += f", peak RSS {ours.peak_rss_mb:,.0f} MB"
    row.target += ", RSS < 300 MB at 10^6"
    if events >= 1_000_000:
        row.holds = bool(row.holds) and ours.peak_rss_mb < 300
    return row


def state_reads(
    port: int, token: str, sizes: list[int], questions: dict[str, list[str]], requests: int
) -> dict[tuple[int, str], reads.StateReads]:
    """Measure every kind of question on every subject deal."""
    return {
        (size, kind): reads.deal_state(port, token, f"subject-{size}", queries, requests)
        for size in sizes
        for kind, queries in questions.items()
    }


def state_rows(
    before: dict[tuple[int, str], reads.StateReads],
    after: dict[tuple[int, str], reads.StateReads],
    sizes: list[int],
    small: int,
    events: int,
) -> list[Row]:
    """Rows of deal state latency with the full store, against the same reads with the small one.

    The absolute target is on p99; "unchanged" is judged on p50, which a single slow
    request on a shared machine does not move. "First asking" is the slowest first asking
    of a question (answers are cached from then on while the deal does not change).
    """
    rows = []
    for (size, kind), found in after.items():
        base = before[(size, kind)]
        p50, p99 = found.run.percentile(50), found.run.percentile(99)
        base_p50, base_p99 = base.run.percentile(50), base.run.percentile(99)
        ratio = base_p50 / p50 if p50 else 0.0
        rows.append(
            Row(
                f"deal state read, {kind}, {size:,} events",
                f"p50 {p50:.1f} ms, p99 {p99:.1f} ms (first asking {base.cold_ms:.0f} ms)",
                f"p50 {base_p50:.1f} ms, p99 {base_p99:.1f} ms with {small:,} other events",
                ratio,
                f"p99 < {P99_TARGET_MS:g} ms; p50 ratio ≈ 1",
                p99 < P99_TARGET_MS and ratio >= 0.67,
                {
                    "p50_ms": p50,
                    "p99_ms": p99,
                    "first_asking_ms": base.cold_ms,
                    "first_asking_after_load_ms": found.cold_ms,
                    "small_store_p50_ms": base_p50,
                    "small_store_p99_ms": base_p99,
                    "small_store_other_events": small,
                    "other_events": events,
                    "requests": len(found.run.latencies),
                },
            )
        )
    return rows


if __name__ == "__main__":
    sys.exit(main())
