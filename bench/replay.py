"""Full rebuild of the read models, in a process of its own so its peak memory can be read.

`python -m bench.replay URL` runs app.projections.rebuild.rebuild (what `dealtracker
projections rebuild` runs) and prints {seconds, events, streams} as JSON; the parent reads
the child's peak RSS from the kernel (wait4).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass

import psycopg

from bench.server import ROOT
from bench.writes import COLUMNS


@dataclass
class Replay:
    """What one replay did."""

    seconds: float
    events: int
    peak_rss_mb: float


def rebuild_in_child(url: str) -> Replay:
    """Run the rebuild in a child process; return its time and the child's peak RSS."""
    child = subprocess.Popen(
        [sys.executable, "-m", "bench.replay", url], cwd=ROOT, stdout=subprocess.PIPE
    )
    assert child.stdout is not None
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise RuntimeError(f"rebuild failed with exit code {child.returncode}")
    found = json.loads(output.decode().strip().splitlines()[-1])
    return Replay(found["seconds"], found["events"], usage.ru_maxrss / 1024)


def raw_read(url: str, batch_size: int = 2000) -> Replay:
    """Read every event through a server-side cursor, in stream order, decoding the JSON."""
    sql = f"SELECT {COLUMNS} FROM events ORDER BY stream_id, version"
    started, count = time.perf_counter(), 0
    with psycopg.connect(url) as conn, conn.cursor(name="bench_replay") as cursor:
        cursor.itersize = batch_size
        cursor.execute(sql)
        while rows := cursor.fetchmany(batch_size):
            count += len(rows)
    return Replay(time.perf_counter() - started, count, 0.0)


def main() -> None:
    """Rebuild the read models of the database at argv[1] and print what it took."""
    from app.config import Settings
    from app.projections.rebuild import rebuild
    from app.store.database import make_engine
    from app.store.eventstore import EventStore

    url = sys.argv[1]
    engine = make_engine(url, Settings(database_url=url))
    started = time.perf_counter()
    result = rebuild(EventStore(engine))
    seconds = time.perf_counter() - started
    engine.dispose()
    print(json.dumps({"seconds": seconds, "events": result.events, "streams": result.streams}))


if __name__ == "__main__":
    main()
