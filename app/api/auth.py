"""Bearer tokens and roles: reads need `reader` (or nobody, with PUBLIC_READS), writes `editor`."""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, Response, current_app, g, request

from app.api.errors import ApiError
from app.runtime import runtime
from app.store.tokens import TokenIdentity, authenticate, hash_token, role_at_least

F = TypeVar("F", bound=Callable[..., Any])
API_PREFIX = "/api/"
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_REQUEST_ID_RE = re.compile(r"[A-Za-z0-9._:\-]{1,200}")
_BEARER_RE = re.compile(r"Bearer\s+(\S+)\s*", re.IGNORECASE)
# A verified token is trusted this long without asking the database again, so a revoked
# token (or a changed role) takes effect in each worker within this many seconds.
TOKEN_CACHE_SECONDS = 5.0


class TokenCache:
    """Recently verified tokens, by hash: saves a query on every request."""

    MAX_ENTRIES = 10_000

    def __init__(self, seconds: float = TOKEN_CACHE_SECONDS) -> None:
        self.seconds = seconds
        self._found: dict[str, tuple[float, TokenIdentity]] = {}
        self._lock = threading.Lock()

    def identity(self, engine: Any, token: str) -> TokenIdentity | None:
        """Return the token's identity, from the cache when it was verified recently."""
        key, now = hash_token(token), time.monotonic()
        hit = self._found.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        found = authenticate(engine, token)
        with self._lock:
            if found is None:
                self._found.pop(key, None)
                return None
            if len(self._found) >= self.MAX_ENTRIES:
                self._found.clear()  # crude, but memory stays bounded
            self._found[key] = (now + self.seconds, found)
        return found


def requires(role: str) -> Callable[[F], F]:
    """Mark a view method as needing at least `role` (beyond the default by HTTP method)."""

    def mark(view: F) -> F:
        view.required_role = role  # type: ignore[attr-defined]
        return view

    return mark


def identity() -> TokenIdentity | None:
    """Return the identity of the current request's token, or None when anonymous."""
    found: TokenIdentity | None = g.get("identity")
    return found


def request_id() -> str:
    """Return the current request's id (the client's X-Request-ID, or a new one)."""
    found: str = g.get("request_id") or ""
    return found


def event_metadata() -> dict[str, Any]:
    """Return the metadata every event written by this request carries: who, which request, what client."""
    who = identity()
    metadata: dict[str, Any] = {
        "actor": who.name if who else None,
        "actor_token_id": who.id if who else None,
        "request_id": request_id(),
        "client": request.headers.get("User-Agent"),
    }
    key = request.headers.get("Idempotency-Key")
    if key:
        metadata["idempotency_key"] = key
    return {name: value for name, value in metadata.items() if value is not None}


def assign_request_id() -> None:
    """Take the client's X-Request-ID when it is a sensible token, else make one."""
    given = request.headers.get("X-Request-ID", "")
    g.request_id = given if _REQUEST_ID_RE.fullmatch(given) else uuid.uuid4().hex


def echo_request_id(response: Response) -> Response:
    """Put X-Request-ID on every response."""
    response.headers["X-Request-ID"] = g.get("request_id") or uuid.uuid4().hex
    return response


def authenticate_request() -> None:
    """Resolve the bearer token (401 when it is malformed or unknown) and check the role needed."""
    if not request.path.startswith(API_PREFIX) or request.routing_exception is not None:
        return
    header = request.headers.get("Authorization")
    g.identity = None
    if header is not None:
        match = _BEARER_RE.fullmatch(header)
        tokens: TokenCache = current_app.extensions["dealtracker_tokens"]
        found = tokens.identity(runtime().engine, match.group(1)) if match else None
        if found is None:
            raise _unauthorized("the bearer token is malformed, unknown or revoked")
        g.identity = found


def authorize_request() -> None:
    """Refuse a request whose token's role is below what the endpoint needs."""
    if not request.path.startswith(API_PREFIX) or request.routing_exception is not None:
        return
    needed = _required_role()
    who = identity()
    if who is None:
        if needed == "reader" and runtime().settings.public_reads:
            return
        raise _unauthorized("this endpoint needs a bearer token")
    if not role_at_least(who.role, needed):
        raise ApiError(
            403,
            f"this endpoint needs the {needed} role; the token has {who.role}",
            title="Forbidden",
        )


def _required_role() -> str:
    """Return the role the matched view needs: by method, or as marked with @requires."""
    default = "reader" if request.method in READ_METHODS else "editor"
    view = current_app.view_functions.get(request.endpoint or "")
    view_class = getattr(view, "view_class", None)
    handler = getattr(view_class, request.method.lower(), None) if view_class else view
    marked: str | None = getattr(handler, "required_role", None)
    if marked is not None and role_at_least(marked, default):
        return marked
    return default


def _unauthorized(detail: str) -> ApiError:
    return ApiError(401, detail, headers={"WWW-Authenticate": 'Bearer realm="dealtracker"'})


def init_app(app: Flask) -> None:
    """Put X-Request-ID on every response (the before-request hooks are ordered in app.api)."""
    app.extensions["dealtracker_tokens"] = TokenCache()
    app.after_request(echo_request_id)
