"""Export the log as NDJSON with full envelopes, and import such a file into another database."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, Any
from uuid import UUID

from sqlalchemy import Connection, Engine, text

from app.config import Settings
from app.progress import Progress
from app.store.eventstore import _COLUMNS, APPEND_LOCK_KEY
from app.store.tables import events as events_table

_BATCH = 1000


class ImportRefused(Exception):
    """The file does not fit the log already in the database; nothing was imported."""


def export_lines(
    engine: Engine, *, after: int = 0, progress: Progress | None = None
) -> Iterator[str]:
    """Yield one JSON line per event after `after`, as stored (no upcasting), in position order."""
    with engine.connect() as conn:
        if progress is not None:
            progress.total = int(
                conn.execute(
                    text("SELECT count(*) FROM events WHERE position > :a"), {"a": after}
                ).scalar_one()
            )
        result = conn.execution_options(stream_results=True, max_row_buffer=_BATCH).execute(
            text(f"SELECT {_COLUMNS} FROM events WHERE position > :a ORDER BY position"),
            {"a": after},
        )
        for partition in result.mappings().partitions(_BATCH):
            for row in partition:
                yield json.dumps(_envelope(row), ensure_ascii=False, separators=(",", ":"))
            if progress is not None:
                progress.advance(len(partition))


def _envelope(row: Any) -> dict[str, Any]:
    return {
        "position": row["position"],
        "event_id": str(row["event_id"]),
        "stream_id": row["stream_id"],
        "version": row["version"],
        "type": row["type"],
        "schema_version": row["schema_version"],
        "data": row["data"],
        "source": row["source"],
        "metadata": row["metadata"],
        "occurred_at": row["occurred_at"].isoformat(),
        "occurred_precision": row["occurred_precision"],
        "recorded_at": row["recorded_at"].isoformat(),
    }


def _row(envelope: dict[str, Any]) -> dict[str, Any]:
    row = {name: envelope[name] for name in _COLUMNS.split(", ")}
    row["event_id"] = UUID(row["event_id"])
    row["occurred_at"] = datetime.fromisoformat(row["occurred_at"])
    row["recorded_at"] = datetime.fromisoformat(row["recorded_at"])
    return row


def import_lines(engine: Engine, lines: Iterable[str], *, progress: Progress | None = None) -> int:
    """Restore exported events exactly (ids, streams, versions, positions, recorded_at), all or nothing.

    Events already in the database must be identical to the file's; the first
    one that differs is named and nothing is imported.
    """
    imported = 0
    with engine.begin() as conn:
        conn.execute(text(f"SELECT pg_advisory_xact_lock({APPEND_LOCK_KEY})"))
        head = _head(conn)
        versions: dict[str, int] = {}
        last_recorded: datetime | None = None
        last_position = 0
        batch: list[dict[str, Any]] = []
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                row = _row(json.loads(line))
            except (ValueError, KeyError, TypeError) as error:
                raise ImportRefused(f"line {number} is not an exported event: {error}") from None
            if row["position"] <= last_position:
                raise ImportRefused(
                    f"line {number}: position {row['position']} is not after {last_position}"
                )
            if last_recorded is not None and row["recorded_at"] < last_recorded:
                raise ImportRefused(
                    f"line {number}: event {row['event_id']} was recorded before the one above it"
                )
            last_position, last_recorded = row["position"], row["recorded_at"]
            if row["position"] <= head[0]:
                _same_as_existing(conn, row)
                versions[row["stream_id"]] = row["version"]
                continue
            if head[1] is not None and row["recorded_at"] < head[1]:
                raise ImportRefused(
                    f"event {row['event_id']} was recorded before the newest event in the database"
                )
            expected = versions.get(row["stream_id"])
            if expected is None:
                expected = _stream_version(conn, row["stream_id"])
            if row["version"] != expected + 1:
                raise ImportRefused(
                    f"event {row['event_id']} has version {row['version']} of {row['stream_id']}, expected {expected + 1}"
                )
            versions[row["stream_id"]] = row["version"]
            batch.append(row)
            if len(batch) >= _BATCH:
                imported += _insert(conn, batch, progress)
        imported += _insert(conn, batch, progress)
    return imported


def _insert(conn: Connection, batch: list[dict[str, Any]], progress: Progress | None) -> int:
    if not batch:
        return 0
    conn.execute(events_table.insert(), batch)
    count = len(batch)
    batch.clear()
    if progress is not None:
        progress.advance(count)
    return count


def _head(conn: Connection) -> tuple[int, datetime | None]:
    row = conn.execute(
        text("SELECT position, recorded_at FROM events ORDER BY position DESC LIMIT 1")
    ).first()
    return (0, None) if row is None else (int(row[0]), row[1])


def _stream_version(conn: Connection, stream_id: str) -> int:
    value = conn.execute(
        text("SELECT coalesce(max(version), 0) FROM events WHERE stream_id = :s"), {"s": stream_id}
    ).scalar_one()
    return int(value)


def _same_as_existing(conn: Connection, row: dict[str, Any]) -> None:
    """Refuse the import when the database holds a different event at this position."""
    existing = (
        conn.execute(
            text(f"SELECT {_COLUMNS} FROM events WHERE position = :p"), {"p": row["position"]}
        )
        .mappings()
        .first()
    )
    if existing is None or any(existing[k] != row[k] for k in row):
        found = (
            "nothing"
            if existing is None
            else f"event {existing['event_id']} of {existing['stream_id']}"
        )
        raise ImportRefused(
            f"the database's log conflicts with the file at position {row['position']}: "
            f"the file has event {row['event_id']} of {row['stream_id']}, the database has {found}"
        )


def _engine(settings: Settings) -> Engine:
    from app.store import migrate
    from app.store.database import make_engine, resolve_database_url

    engine = make_engine(resolve_database_url(settings), settings)
    migrate.upgrade(engine)
    return engine


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    """Write the log as NDJSON to a file or standard output, with a progress bar on stderr."""
    engine = _engine(settings)
    progress = Progress("export")
    out: IO[str] = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout  # noqa: SIM115
    try:
        for line in export_lines(engine, after=args.after, progress=progress):
            out.write(line + "\n")
    finally:
        if args.output:
            out.close()
    progress.finish()
    return 0


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    """Import an exported log, then rebuild the read models."""
    from app.projections.rebuild import rebuild
    from app.store.eventstore import EventStore

    engine = _engine(settings)
    path = Path(args.file)
    total = sum(1 for _ in path.open(encoding="utf-8"))
    progress = Progress("import", total=total)
    try:
        with path.open(encoding="utf-8") as lines:
            imported = import_lines(engine, lines, progress=progress)
    except ImportRefused as refused:
        print(f"dealtracker: import refused, nothing imported: {refused}", file=sys.stderr)
        return 1
    progress.finish()
    result = rebuild(EventStore(engine), progress=Progress("rebuild"))
    print(f"imported {imported:,} events; read models rebuilt up to position {result.position}")
    return 0


def register_commands(sub: Any) -> None:
    """Add `dealtracker export` and `dealtracker import`."""
    export = sub.add_parser("export", help="write the log as NDJSON")
    export.add_argument("--after", type=int, default=0, help="only events after this position")
    export.add_argument("--output", "-o", help="file to write (default: standard output)")
    export.set_defaults(func=cmd_export)
    restore = sub.add_parser(
        "import", help="import an exported NDJSON log, then rebuild read models"
    )
    restore.add_argument("file")
    restore.set_defaults(func=cmd_import)
