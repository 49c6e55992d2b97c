"""API tokens: random, shown once, stored only as a SHA-256 hash, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import Engine, text

from app.store.database import reading

ROLES = ("reader", "editor", "admin")
TOKEN_PREFIX = "dt_"


@dataclass(frozen=True, slots=True)
class TokenIdentity:
    """Who a valid token belongs to."""

    id: int
    name: str
    role: str


def hash_token(token: str) -> str:
    """Return the stored form of a token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(engine: Engine, *, role: str, name: str) -> str:
    """Create a token with a role and return it; only its hash is kept."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if not name.strip():
        raise ValueError("a token needs a name")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO api_tokens (name, role, token_hash) VALUES (:n, :r, :h)"),
            {"n": name, "r": role, "h": hash_token(token)},
        )
    return token


def authenticate(engine: Engine, token: str) -> TokenIdentity | None:
    """Return the identity of a valid, unrevoked token, or None."""
    digest = hash_token(token)
    with reading(engine) as conn:
        row = conn.execute(
            text(
                "SELECT id, name, role, token_hash FROM api_tokens "
                "WHERE token_hash = :h AND revoked_at IS NULL"
            ),
            {"h": digest},
        ).first()
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        return None
    return TokenIdentity(id=row.id, name=row.name, role=row.role)


def role_at_least(role: str, needed: str) -> bool:
    """Tell whether `role` is at least `needed` in reader < editor < admin."""
    return ROLES.index(role) >= ROLES.index(needed)
