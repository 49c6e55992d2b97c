"""`dealtracker projections rebuild`."""

from __future__ import annotations

import argparse
from typing import Any

from app.config import Settings


def cmd_rebuild(args: argparse.Namespace, settings: Settings) -> int:
    """Replay the whole log into the read models, showing progress."""
    from app.progress import Progress
    from app.projections.rebuild import rebuild
    from app.store.database import make_engine, resolve_database_url
    from app.store.eventstore import EventStore

    engine = make_engine(resolve_database_url(settings), settings)
    result = rebuild(EventStore(engine), progress=Progress("rebuild"), batch_size=args.batch_size)
    print(
        f"rebuilt read models from {result.events:,} events in {result.streams:,} streams, up to position {result.position}"
    )
    return 0


def register_commands(sub: Any) -> None:
    """Add the projections commands to the CLI."""
    projections = sub.add_parser("projections", help="read models").add_subparsers(
        dest="projections", required=True
    )
    rebuild = projections.add_parser("rebuild", help="replay the log into the read models")
    rebuild.add_argument("--batch-size", type=int, default=2000)
    rebuild.set_defaults(func=cmd_rebuild)
