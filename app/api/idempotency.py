"""Idempotency-Key on writes: the first response is kept for 24 hours and replayed to retries.

The key is claimed in its own short transaction before the write runs (a row with
no status yet: in flight), so a concurrent duplicate sees it and gets 409; the
response is stored once the write has answered. A claim whose request died before
answering is given up after ten minutes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
from typing import Any

from flask import Flask, Response, g, request
from sqlalchemy import text

from app.api.auth import API_PREFIX, identity
from app.api.errors import ApiError
from app.runtime import runtime

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
KEPT_HEADERS = ("Content-Type", "Location", "ETag")
log = logging.getLogger(__name__)

_EXPIRE = text(
    "DELETE FROM idempotency_keys WHERE token_id = :token AND key = :key"
    " AND (created_at < now() - interval '24 hours'"
    " OR (status IS NULL AND created_at < now() - interval '10 minutes'))"
)
_CLAIM = text(
    "INSERT INTO idempotency_keys (token_id, key, request_hash) VALUES (:token, :key, :hash)"
    " ON CONFLICT (token_id, key) DO NOTHING RETURNING 1"
)
_FIND = text(
    "SELECT request_hash, status, response_body, response_headers FROM idempotency_keys"
    " WHERE token_id = :token AND key = :key"
)
_STORE = text(
    "UPDATE idempotency_keys SET status = :status, response_body = :body,"
    " response_headers = CAST(:headers AS jsonb), completed_at = now()"
    " WHERE token_id = :token AND key = :key"
)
_RELEASE = text("DELETE FROM idempotency_keys WHERE token_id = :token AND key = :key")
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
        claimed = conn.execute(_CLAIM, params).first() is not None
        if claimed and random.random() < 0.01:
            conn.execute(_PURGE)
        found = None if claimed else conn.execute(_FIND, params).first()
    if claimed:
        g.idempotency = params
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
    if found.status is None:
        raise ApiError(
            409,
            f"a request with this {HEADER} is still being processed",
            headers={"Retry-After": "1"},
        )
    return _replay(found.status, found.response_body, found.response_headers)


def _replay(status: int, body: str | None, headers: dict[str, Any]) -> Response:
    response = Response(body or "", status=status)
    for name, value in headers.items():
        response.headers[name] = value
    response.headers["Idempotent-Replayed"] = "true"
    return response


def store_response(response: Response) -> Response:
    """Keep the response of a claimed key; give the key up when the write failed transiently."""
    params = g.pop("idempotency", None)
    if params is None:
        return response
    try:
        with runtime().engine.begin() as conn:
            if response.status_code >= 500 or response.status_code == 429:
                conn.execute(_RELEASE, params)
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
    """Give up a claim whose request ended without a response."""
    params = g.pop("idempotency", None)
    if params is None:
        return
    try:
        with runtime().engine.begin() as conn:
            conn.execute(_RELEASE, params)
    except Exception:
        log.exception("could not release an idempotency key")


def init_app(app: Flask) -> None:
    """Store responses of idempotent writes and release abandoned claims."""
    app.after_request(store_response)
    app.teardown_request(release_on_error)
