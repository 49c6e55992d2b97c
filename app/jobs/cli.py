"""`dealtracker worker` and `dealtracker snapshots run-due | take | list | show | diff | state`."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from datetime import UTC, date, datetime
from typing import Any

from app.config import Settings


def parse_time(raw: str) -> datetime:
    """Parse an RFC 3339 time (with a zone) or a date (its midnight, UTC)."""
    try:
        if len(raw) == 10:
            return datetime.combine(date.fromisoformat(raw), datetime.min.time(), UTC)
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{raw!r} is not a time like 2025-01-10T15:00:00Z or a date like 2025-01-10"
        ) from None
    if parsed.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{raw!r} needs a time zone, e.g. Z or +09:00")
    return parsed.astimezone(UTC)


def _engine(settings: Settings) -> Any:
    from app.store.database import make_engine, resolve_database_url

    return make_engine(resolve_database_url(settings), settings)


def _print_json(value: Any) -> None:
    try:
        json.dump(value, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        sys.stdout.flush()
    except BrokenPipeError:  # `| head` has read enough
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _describe(taken: Any) -> str:
    slot = taken.slot.isoformat().replace("+00:00", "Z") if taken.slot else "now"
    if taken.id is None:
        return f"{taken.schedule} {slot}: already taken"
    late = " (late)" if taken.late else ""
    return f"{taken.schedule or 'on demand'} {slot}: snapshot {taken.id} at position {taken.computed.position}{late}"


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    """Apply migrations, take the slots missed while no worker ran, then run the procrastinate worker."""
    # Until procrastinate installs its own handlers, SIGTERM simply ends the start-up.
    signal.signal(signal.SIGTERM, _stop_starting)
    from app.jobs.queue import create_job_app
    from app.snapshots.schedules import load_config
    from app.snapshots.service import run_due
    from app.store import migrate

    config = load_config(settings)
    engine = _engine(settings)
    migrate.upgrade(engine)
    if not config.schedules:
        print("no SNAPSHOT_SCHEDULES configured: nothing is scheduled", file=sys.stderr)
    # procrastinate defers only wake-ups of the last few minutes; catching up is ours.
    for taken in run_due(engine, config, lock_timeout_ms=settings.lock_timeout_ms).taken:
        print(_describe(taken), file=sys.stderr)
    names = ", ".join(f"{s.name}={s.cron}" for s in config.schedules)
    print(f"worker running; schedules in {config.zone.key}: {names or 'none'}", file=sys.stderr)
    job_app = create_job_app(settings, engine=engine, config=config)
    job_app.run_worker(concurrency=args.concurrency, name=args.name)
    return 0


def _stop_starting(signum: int, frame: Any) -> None:
    raise SystemExit(0)


def cmd_run_due(args: argparse.Namespace, settings: Settings) -> int:
    """Take every due slot not yet taken, then apply retention."""
    from app.progress import Progress
    from app.snapshots.schedules import load_config
    from app.snapshots.service import run_due

    config = load_config(settings)
    names = args.schedule or None
    for name in names or ():
        config.get(name)
    run = run_due(
        _engine(settings),
        config,
        now=args.now,
        names=names,
        progress=Progress,
        lock_timeout_ms=settings.lock_timeout_ms,
    )
    for taken in run.taken:
        print(_describe(taken))
    print(f"{sum(t.id is not None for t in run.taken)} taken, {run.deleted} deleted by retention")
    return 0


def cmd_take(args: argparse.Namespace, settings: Settings) -> int:
    """Take a snapshot of the global state now."""
    from app.progress import Progress
    from app.snapshots.service import take

    engine = _engine(settings)
    taken = take(engine, progress=Progress("snapshot"), lock_timeout_ms=settings.lock_timeout_ms)
    print(_describe(taken))
    return 0


def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    """List snapshots, newest first."""
    from app.snapshots import store

    for info in store.listing(_engine(settings), limit=args.limit):
        row = info.to_json()
        late = " late" if info.late else ""
        print(
            f"{row['id']:>6}  {row['schedule'] or 'on-demand':<12} {row['slot'] or '-':<21} "
            f"taken {row['taken_at']}  position {row['position']}  {row['size']:,} bytes{late}"
        )
    return 0


def cmd_show(args: argparse.Namespace, settings: Settings) -> int:
    """Print a snapshot's basis and the global state it holds, as JSON."""
    from app.snapshots import store

    found = store.get(_engine(settings), args.id)
    if found is None:
        raise ValueError(f"there is no snapshot {args.id}")
    info, state = found
    _print_json(
        {**info.to_json(), "organizations": state["organizations"], "deals": state["deals"]}
    )
    return 0


def cmd_diff(args: argparse.Namespace, settings: Settings) -> int:
    """Print what changed from snapshot A to snapshot B, as JSON."""
    from app.snapshots import store
    from app.snapshots.diff import diff_states

    engine = _engine(settings)
    found = [store.get(engine, snapshot_id) for snapshot_id in (args.a, args.b)]
    for snapshot_id, item in zip((args.a, args.b), found, strict=True):
        if item is None:
            raise ValueError(f"there is no snapshot {snapshot_id}")
    (old_info, old), (new_info, new) = found  # type: ignore[misc]
    _print_json({"from": old_info.to_json(), "to": new_info.to_json(), **diff_states(old, new)})
    return 0


def cmd_state(args: argparse.Namespace, settings: Settings) -> int:
    """Print the global state now or as known at a time, from the nearest snapshot and the events after it."""
    from app.progress import Progress
    from app.snapshots.service import global_state

    found = global_state(_engine(settings), known_at=args.known_at, progress=Progress("fold"))
    _print_json({"position": found.position, "base_snapshot": found.base_id, **found.state})
    return 0


def register_commands(sub: Any) -> None:
    """Add `worker` and `snapshots` to the CLI."""
    worker = sub.add_parser("worker", help="run the background worker (scheduled snapshots)")
    worker.add_argument("--concurrency", type=int, default=1)
    worker.add_argument("--name", default="dealtracker-worker")
    worker.set_defaults(func=cmd_worker)

    snapshots = sub.add_parser("snapshots", help="global state snapshots").add_subparsers(
        dest="snapshots", required=True
    )
    due = snapshots.add_parser("run-due", help="take every due slot not yet taken")
    due.add_argument("--now", type=parse_time, default=None, help="pretend it is this time")
    due.add_argument("--schedule", action="append", help="only this schedule (repeatable)")
    due.set_defaults(func=cmd_run_due)
    snapshots.add_parser("take", help="take a snapshot now").set_defaults(func=cmd_take)
    listing = snapshots.add_parser("list", help="list snapshots, newest first")
    listing.add_argument("--limit", type=int, default=50)
    listing.set_defaults(func=cmd_list)
    show = snapshots.add_parser("show", help="print a snapshot as JSON")
    show.add_argument("id", type=int)
    show.set_defaults(func=cmd_show)
    diff = snapshots.add_parser("diff", help="what changed from snapshot A to B")
    diff.add_argument("a", type=int)
    diff.add_argument("b", type=int)
    diff.set_defaults(func=cmd_diff)
    state = snapshots.add_parser("state", help="print the global state, fast, from snapshots")
    state.add_argument("--known-at", type=parse_time, default=None)
    state.set_defaults(func=cmd_state)
