"""`dealtracker users create | list | disable`: the people who sign in to the admin pages."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from app.config import Settings
from app.store.tokens import ROLES


def _engine(settings: Settings) -> Any:
    from app.store.database import make_engine, resolve_database_url

    return make_engine(resolve_database_url(settings), settings)


def read_password(from_stdin: bool) -> str:
    """Read a new password from standard input's first line, or prompt for it twice."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != first:
        raise ValueError("the two passwords differ; nothing was created")
    return first


def cmd_users_create(args: argparse.Namespace, settings: Settings) -> int:
    """Create a user who signs in to /admin with a username and password."""
    from app.admin.accounts import check_new_user, create_user

    problems = check_new_user(args.username, args.role, "x" * 64)
    if problems:  # refuse a bad username before asking for a password
        raise ValueError("; ".join(f"{field}: {msg}" for field, msg in problems.items()))
    password = read_password(args.password_stdin)
    user = create_user(_engine(settings), username=args.username, role=args.role, password=password)
    print(f"created {user.role} {user.username}")
    return 0


def cmd_users_list(args: argparse.Namespace, settings: Settings) -> int:
    """Print every user with their role and whether they are disabled."""
    from app.admin.accounts import list_users

    for user in list_users(_engine(settings)):
        state = "disabled" if user.disabled_at else "active"
        print(f"{user.username}\t{user.role}\t{state}")
    return 0


def cmd_users_disable(args: argparse.Namespace, settings: Settings) -> int:
    """Disable a user: they can no longer sign in, and their sessions end."""
    from app.admin.accounts import list_users, normalize_username, set_disabled

    engine = _engine(settings)
    wanted = normalize_username(args.username)
    user = next((u for u in list_users(engine) if u.username == wanted), None)
    if user is None:
        raise ValueError(f"there is no user {wanted!r}")
    set_disabled(engine, user.id, not args.enable)
    print(f"{'enabled' if args.enable else 'disabled'} {user.username}")
    return 0


def register_commands(sub: Any) -> None:
    """Add the users commands to the CLI."""
    users = sub.add_parser("users", help="people who sign in to the admin pages")
    commands = users.add_subparsers(dest="users", required=True)
    create = commands.add_parser("create", help="create a user (prompts for the password)")
    create.add_argument("--username", required=True)
    create.add_argument("--role", required=True, choices=ROLES)
    create.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    create.set_defaults(func=cmd_users_create)
    commands.add_parser("list", help="list users").set_defaults(func=cmd_users_list)
    disable = commands.add_parser("disable", help="disable (or --enable) a user")
    disable.add_argument("--username", required=True)
    disable.add_argument("--enable", action="store_true", help="enable the user again")
    disable.set_defaults(func=cmd_users_disable)
