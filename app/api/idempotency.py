"""Idempotency-Key on writes: the first response is kept for 24 hours and replayed to retries.

The key is claimed in its own short transaction before the write runs (a row with
no status yet: in flight), so a concurrent duplicate sees it and gets 409; the
response is stored once the write has answered.

The events a keyed write appends get ids derived from the claim, so the log itself
remembers which claim wrote them, in the write's own transaction. A request can die
after its write commits and before its response is stored (a killed worker, a
database gone mid-request); a retry then takes the claim over -- at once when the
attempt ended with a server error, after ORPHANED_AFTER_SECONDS when it vanished --
and runs the write again with the same event ids, which the store recognises as
already appended: the retry answers with the original events and writes nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import uuid
from datetime import datetime
from typing import Any

from flask import Flask, Response, g, request
from sqlalchemy import text

from app.api.auth import API_PREFIX, identity
from app.api.errors import ApiError
from app.runtime import runtime

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
KEPT_HEADERS = ("Content-Type", "Location", "ETag")
# A claim with no answer after this long belongs to a request that died (or is very
# slow: running its write twice is harmless, the event ids make the second a no-op).
ORPHANED_AFTER_SECONDS = 10
_EVENT_IDS = uuid.UUID("5b0e3c1e-8d2a-4c53-9a51-1d7e0c6f2b44")
log = logging.getLogger(__name__)

_EXPIRE = text(
    "DELETE FROM idempotency_keys WHERE token_id = :token AND key = :key"
    " AND created_at < now() - interval '24 hours'"
)
_CLAIM = text(
    "INSERT INTO idempotency_keys (token_id, key, request_hash) VALUES (:token, :key, :hash)"
    " ON CONFLICT (token_id, key) DO NOTHING RETURNING created_at"
)
_FIND = text(
    "SELECT request_hash, status, response_body, response_headers, created_at,"
    " completed_at IS NOT NULL OR created_at < now() - make_interval(secs => :orphaned)"
    " AS abandoned FROM idempotency_keys WHERE token_id = :token AND key = :key"
)
_STORE = text(
    "UPDATE idempotency_keys SET status = :status, response_body = :body,"
    " response_headers = CAST(:headers AS jsonb), completed_at = now()"
    " WHERE token_id = :token AND key = :key"
)
# The attempt ended without an answer worth keeping (a server error): the claim stays,
# so a retry runs the write again with the same event ids instead of new ones.
_ABANDON = text(
    "UPDATE idempotency_keys SET completed_at = now()"
    " WHERE token_id = :token AND key = :key AND status IS NULL"
)
_PURGE = text("DELETE FROM idempotency_keys WHERE created_at < now() - interval '24 hours'")


def request_hash() -> str:
    """Hash what makes two requests the same: method, path, query and the body (as JSON, if it is)."""
    raw = request.get_data(cache=True)
    try:
        body = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        body = raw
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.path.encode(), request.query_string, body):
        digest.update(part)
        digest.update(b"\0")
    return digest.hexdigest()


def claim_key() -> Response | None:
    """Claim the request's Idempotency-Key, or answer with the first response, a 409 or a 422."""
    key = request.headers.get(HEADER)
    who = identity()
    if key is None or who is None or request.method != "POST":
        return None
    if not request.path.startswith(API_PREFIX) or request.routing_exception is not None:
        return None
    if not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise ApiError(
            422,
            f"{HEADER} must be 1 to {MAX_KEY_LENGTH} characters",
            errors={HEADER: [f"must be 1 to {MAX_KEY_LENGTH} characters"]},
        )
    params = {"token": who.id, "key": key, "hash": request_hash()}
    engine = runtime().engine
    with engine.begin() as conn:
        conn.execute(_EXPIRE, params)
        claimed = conn.execute(_CLAIM, params).scalar()
        if claimed is not None and random.random() < 0.01:
            conn.execute(_PURGE)
        found = (
            None
            if claimed is not None
            else conn.execute(_FIND, {**params, "orphaned": ORPHANED_AFTER_SECONDS}).first()
        )
    if claimed is not None:
        g.idempotency = {**params, "claimed_at": claimed}
        return None
    if found is None:  # expired and removed between the two statements: treat as new
        raise ApiError(
            409, "this Idempotency-Key is being reused; retry", headers={"Retry-After": "1"}
        )
    if found.request_hash != params["hash"]:
        raise ApiError(
            422,
            f"this {HEADER} was used for a different request in the last 24 hours",
            errors={HEADER: ["already used with another method, path or body"]},
        )
    if found.status is None and found.abandoned:
        # Its request died or failed without an answer: run it again under the same claim.
        g.idempotency = {**params, "claimed_at": found.created_at, "taken_over": True}
        return None
    if found.status is None:
        raise ApiError(
            409,
            f"a request with this {HEADER} is still being processed",
            headers={"Retry-After": "1"},
        )
    return _replay(found.status, found.response_body, found.response_headers)


def event_id(index: int) -> uuid.UUID | None:
    """Return the id of the index-th event this keyed request appends (None without a key)."""
    claim = g.get("idempotency")
    if claim is None:
        return None
    claimed_at: datetime = claim["claimed_at"]
    name = f"{claim['token']}:{claim['key']}:{claimed_at.isoformat()}:{index}"
    return uuid.uuid5(_EVENT_IDS, name)


def took_over() -> bool:
    """Tell whether this request runs again the write of an earlier attempt that got no answer."""
    claim = g.get("idempotency")
    return bool(claim and claim.get("taken_over"))


def _replay(status: int, body: str | None, headers: dict[str, Any]) -> Response:
    response = Response(body or "", status=status)
    for name, value in headers.items():
        response.headers[name] = value
    response.headers["Idempotent-Replayed"] = "true"
    return response


def store_response(response: Response) -> Response:
    """Keep the response of a claimed key; mark the attempt ended when the write failed transiently."""
    params = g.pop("idempotency", None)
    if params is None:
        return response
    try:
        with runtime().engine.begin() as conn:
            if response.status_code >= 500 or response.status_code == 429:
                conn.execute(_ABANDON, params)
            else:
                headers = {k: response.headers[k] for k in KEPT_HEADERS if k in response.headers}
                conn.execute(
                    _STORE,
                    {
                        **params,
                        "status": response.status_code,
                        "body": response.get_data(as_text=True),
                        "headers": json.dumps(headers),
                    },
                )
    except Exception:
        # The write's answer matters more than remembering it; a retry will 409 until the claim expires.
        log.exception("could not store the response of an idempotent request")
    return response


def release_on_error(error: BaseException | None) -> None:
    """Mark ended a claim whose request ended without a response, so a retry takes it over."""
    params = g.pop("idempotency", None)
    if params is None:
        return
    try:
        with runtime().engine.begin() as conn:
            conn.execute(_ABANDON, params)
    except Exception:
        log.exception("could not mark an idempotency key abandoned")


def init_app(app: Flask) -> None:
    """Store responses of idempotent writes and release abandoned claims."""
    app.after_request(store_response)
    app.teardown_request(release_on_error)
