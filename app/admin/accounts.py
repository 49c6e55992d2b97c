"""People who sign in to the admin pages, and the API tokens admins manage there."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from app.store.tokens import ROLES

USERNAME_RE = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
MIN_PASSWORD_LENGTH = 10
# scrypt with werkzeug's cost (N=2^15, r=8, p=1): deliberately slow to guess at.
PASSWORD_METHOD = "scrypt"
# Checked against when the username is unknown, so a miss costs as much as a wrong password.
_DECOY_HASH = generate_password_hash("decoy password never used", method=PASSWORD_METHOD)


class AccountError(ValueError):
    """A user cannot be created or changed as asked; the message says why."""


@dataclass(frozen=True, slots=True)
class User:
    """Someone who may sign in, with their role."""

    id: int
    username: str
    role: str
    created_at: datetime
    disabled_at: datetime | None

    @property
    def active(self) -> bool:
        """Tell whether the user may sign in."""
        return self.disabled_at is None


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """An API token as an admin sees it: never the token itself."""

    id: int
    name: str
    role: str
    created_at: datetime
    revoked_at: datetime | None


def normalize_username(username: str) -> str:
    """Return the canonical form of a username: NFKC, trimmed, lowercase."""
    return unicodedata.normalize("NFKC", username).strip().lower()


def check_new_user(username: str, role: str, password: str) -> dict[str, str]:
    """Return problems with a new user's fields, by field name."""
    problems = {}
    if not USERNAME_RE.fullmatch(normalize_username(username)):
        problems["username"] = (
            "use 1–64 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    if role not in ROLES:
        problems["role"] = f"must be one of: {', '.join(ROLES)}"
    if len(password) < MIN_PASSWORD_LENGTH:
        problems["password"] = f"must be at least {MIN_PASSWORD_LENGTH} characters"
    return problems


def create_user(engine: Engine, *, username: str, role: str, password: str) -> User:
    """Create a user with a slow password hash; raise AccountError when that is not possible."""
    problems = check_new_user(username, role, password)
    if problems:
        raise AccountError("; ".join(f"{field}: {msg}" for field, msg in problems.items()))
    name = normalize_username(username)
    hashed = generate_password_hash(password, method=PASSWORD_METHOD)
    try:
        with engine.begin() as conn:
            row = conn.execute(
                text(
                    "INSERT INTO users (username, password_hash, role) VALUES (:u, :h, :r)"
                    " RETURNING id, username, role, created_at, disabled_at"
                ),
                {"u": name, "h": hashed, "r": role},
            ).one()
    except IntegrityError:
        raise AccountError(f"username {name!r} is taken") from None
    return User(*row)


def authenticate(engine: Engine, username: str, password: str) -> User | None:
    """Return the active user with this username and password, or None."""
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT id, username, role, created_at, disabled_at, password_hash"
                " FROM users WHERE username = :u"
            ),
            {"u": normalize_username(username)},
        ).first()
    if row is None:
        check_password_hash(_DECOY_HASH, password)
        return None
    if not check_password_hash(row.password_hash, password) or row.disabled_at is not None:
        return None
    return User(*row[:5])


def get_user(engine: Engine, user_id: int) -> User | None:
    """Return a user by id, or None."""
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT id, username, role, created_at, disabled_at FROM users WHERE id = :id"),
            {"id": user_id},
        ).first()
    return None if row is None else User(*row)


def list_users(engine: Engine) -> list[User]:
    """Return every user, by username."""
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT id, username, role, created_at, disabled_at FROM users ORDER BY username")
        )
        return [User(*row) for row in rows]


def set_disabled(engine: Engine, user_id: int, disabled: bool) -> None:
    """Disable a user (they cannot sign in and their sessions end) or enable them again."""
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE users SET disabled_at = CASE WHEN :d THEN coalesce(disabled_at, now())"
                " END WHERE id = :id"
            ),
            {"d": disabled, "id": user_id},
        )


def list_tokens(engine: Engine) -> list[TokenInfo]:
    """Return every API token's name, role and dates, newest first."""
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT id, name, role, created_at, revoked_at FROM api_tokens ORDER BY id DESC")
        )
        return [TokenInfo(*row) for row in rows]


def revoke_token(engine: Engine, token_id: int) -> None:
    """Revoke an API token; requests bearing it are refused from now on."""
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE api_tokens SET revoked_at = coalesce(revoked_at, now()) WHERE id = :id"),
            {"id": token_id},
        )
