"""The `dealtracker` command: serve, db, tokens, and the maintenance commands of later issues."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from app.config import ConfigError, Settings

Command = Callable[[argparse.Namespace, Settings], int]


def _engine(settings: Settings) -> Any:
    from app.store.database import make_engine, resolve_database_url

    return make_engine(resolve_database_url(settings), settings)


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    """Apply migrations, then serve the API with gunicorn."""
    from app.store import migrate
    from app.store.database import resolve_database_url

    url = resolve_database_url(settings)
    # Workers connect to the same server: hand them the resolved URL.
    os.environ["DATABASE_URL"] = url
    engine = _engine(settings.with_overrides(database_url=url))
    migrate.upgrade(engine)
    if args.demo:
        from app.demo import load_demo

        load_demo(engine)
    engine.dispose()
    print(f"dealtracker serving on http://{args.host}:{args.port}", flush=True)
    from app.server import run_gunicorn

    run_gunicorn(args.host, args.port, workers=args.workers)
    return 0


def cmd_db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    """Apply every pending migration."""
    from app.store import migrate

    engine = _engine(settings)
    migrate.upgrade(engine, args.revision)
    print(f"database at revision {migrate.current_revision(engine)}")
    return 0


def cmd_db_downgrade(args: argparse.Namespace, settings: Settings) -> int:
    """Revert migrations down to a revision."""
    from app.store import migrate

    engine = _engine(settings)
    migrate.downgrade(engine, args.revision)
    print(f"database at revision {migrate.current_revision(engine)}")
    return 0


def cmd_db_url(args: argparse.Namespace, settings: Settings) -> int:
    """Print the database URL in use, starting the embedded server when needed."""
    from app.store.database import libpq_url, resolve_database_url

    print(libpq_url(resolve_database_url(settings)))
    return 0


def cmd_tokens_create(args: argparse.Namespace, settings: Settings) -> int:
    """Create an API token and print it once, on the last line."""
    from app.store.tokens import create_token

    token = create_token(_engine(settings), role=args.role, name=args.name)
    print(f"created {args.role} token {args.name!r}; it is shown only once:", file=sys.stderr)
    print(token)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of every command."""
    parser = argparse.ArgumentParser(prog="dealtracker", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the HTTP API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=None, help="default: WEB_CONCURRENCY or 2")
    serve.add_argument("--demo", action="store_true", help="load the demo dataset first")
    serve.set_defaults(func=cmd_serve)

    db = sub.add_parser("db", help="database schema and location").add_subparsers(
        dest="db", required=True
    )
    up = db.add_parser("upgrade", help="apply migrations")
    up.add_argument("revision", nargs="?", default="head")
    up.set_defaults(func=cmd_db_upgrade)
    down = db.add_parser("downgrade", help="revert migrations")
    down.add_argument("revision")
    down.set_defaults(func=cmd_db_downgrade)
    db.add_parser("url", help="print the database URL").set_defaults(func=cmd_db_url)

    tokens = sub.add_parser("tokens", help="API tokens").add_subparsers(
        dest="tokens", required=True
    )
    create = tokens.add_parser("create", help="create a token and print it")
    create.add_argument("--role", required=True, choices=("reader", "editor", "admin"))
    create.add_argument("--name", required=True)
    create.set_defaults(func=cmd_tokens_create)

    for register in _extensions():
        register(sub)
    return parser


def _extensions() -> list[Callable[[Any], None]]:
    """Return the registrars of commands that live next to their features."""
    registrars: list[Callable[[Any], None]] = []
    for module_name in (
        "app.projections.cli",
        "app.demo",
        "app.jobs.cli",
        "app.admin.cli",
        "app.transfer",
    ):
        try:
            module = __import__(module_name, fromlist=["register_commands"])
        except ImportError:
            continue
        registrars.append(module.register_commands)
    return registrars


def main(argv: Sequence[str] | None = None) -> int:
    """Run the dealtracker command line."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
    except ConfigError as error:
        print(f"dealtracker: configuration error: {error}", file=sys.stderr)
        return 2
    from app.logs import configure_logging

    configure_logging(settings)
    try:
        return int(args.func(args, settings))
    except (ValueError, ConfigError) as error:
        print(f"dealtracker: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
