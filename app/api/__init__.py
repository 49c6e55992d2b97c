"""The HTTP API v1 (flask-smorest): blueprints, problem+json errors, auth, limits, idempotency, metrics.

A request passes, in order: request id, timer, token, rate limit, role, body
checks (413, 415), the Idempotency-Key claim; then the view, which parses,
makes one service call and serialises.
"""

from __future__ import annotations

import http
import json
from typing import Any

from flask import Flask, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_smorest import Api
from flask_smorest.utils import prepare_response
from werkzeug.exceptions import RequestEntityTooLarge, UnsupportedMediaType

from app.api import auth, errors, idempotency, metrics, ratelimit
from app.api.schemas import Problem

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

DESCRIPTION = """\
What the press reports about who invests in, partners with and acquires whom, kept as
immutable events; every state is derived from them.

- **Auth**: `Authorization: Bearer <token>`; reads need `reader` (or nothing when the
  server runs with PUBLIC_READS), writes `editor`.
- **Errors** are `application/problem+json` with `type`, `title`, `status`, `detail`
  and, for invalid fields, `errors` as `{field path: [messages]}`.
- **State reads** answer `{state, basis}`; `basis` says which log position, `as_of`
  and `known_at` the answer reflects. `as_of` (valid time) and `known_at` (transaction
  time) take RFC 3339 with a zone or a date `YYYY-MM-DD`, which means the *end* of that
  day in UTC ("as of 31 December" includes all of it). In a write, a bare date for
  `occurred_at` means the start of that day.
- **ETag** on state reads is strong: the stream version plus a digest of the state and
  the question; `If-None-Match` gives 304. Appends answer `ETag: "<version>"`; send it
  back as `If-Match` (stale: 412) or give `expected_version` in the body (stale: 409).
- **Idempotency-Key** (≤ 255 characters) on any write: the same key and body within 24
  hours replays the first response; another body is 422; a retry while the first is
  still running is 409. When the first got no answer (a 5xx, a dropped connection),
  retrying with the same key is safe: its events are never written twice.
- **Lists** take `limit` (≤ 500) and an opaque `cursor`, and answer `items` and
  `next_cursor` with a `Link: <…>; rel="next"` header.
- **Rate limit**: RATE_LIMIT_PER_MINUTE per token (per address when anonymous), counted
  in each server process; over it, 429 with Retry-After.
"""

API_CONFIG: dict[str, Any] = {
    "API_TITLE": "dealtracker",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/",
    "OPENAPI_JSON_PATH": "openapi.json",
    "OPENAPI_SWAGGER_UI_PATH": "docs",
    # Offline the page still loads; its scripts come from this CDN when it is reachable.
    "OPENAPI_SWAGGER_UI_URL": "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/",
    "API_SPEC_OPTIONS": {
        "info": {"description": DESCRIPTION},
        "security": [{"bearerAuth": []}],
    },
}


class DealtrackerApi(Api):
    """flask-smorest's Api, documenting errors as application/problem+json."""

    ERROR_SCHEMA = Problem

    def _register_responses(self) -> None:
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
                prepare_response(response, self.spec, errors.PROBLEM_JSON)
            self.spec.components.response(status.name, response, lazy=True)
        default = {"description": "An error (problem+json)", "schema": self.ERROR_SCHEMA}
        prepare_response(default, self.spec, errors.PROBLEM_JSON)
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, default, lazy=True)


class CookieSessionsOutsideTheApi(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions for the admin pages; none for the API, which uses tokens.

    Opening a session (a signing serializer and a cookie lookup) on every API request was
    a tenth of a millisecond that nothing read.
    """

    def open_session(self, app: Flask, request: Any) -> SecureCookieSession | None:
        if request.path.startswith(auth.API_PREFIX):
            return self.make_null_session(app)
        return super().open_session(app, request)


def check_body() -> None:
    """Refuse bodies over the size limit (413), writes whose body is not JSON (415) or unreadable (400)."""
    if not request.path.startswith(auth.API_PREFIX) or request.method not in WRITE_METHODS:
        return
    limit = request.max_content_length
    if limit is not None and (request.content_length or 0) > limit:
        raise RequestEntityTooLarge()
    has_body = bool(request.content_length) or "chunked" in request.headers.get(
        "Transfer-Encoding", ""
    )
    if has_body and not (request.is_json or request.mimetype.endswith("+json")):
        raise UnsupportedMediaType(
            f"the body must be application/json, not {request.mimetype or 'untyped'}"
        )
    if has_body:
        # Read it once here: JSON nested too deep or a number with thousands of digits
        # raise RecursionError or a bare ValueError, which the parsers after this let through.
        try:
            json.loads(request.get_data(cache=True))
        except (ValueError, RecursionError):
            raise errors.ApiError(400, "the body is not valid JSON") from None


def init_app(app: Flask) -> None:
    """Attach the API to the app."""
    from app.api import deals, events, feed, ops, organizations, snapshots

    for key, value in API_CONFIG.items():
        app.config.setdefault(key, value)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.session_interface = CookieSessionsOutsideTheApi()
    api = DealtrackerApi(app)
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "description": "an API token"}
    )
    errors.init_app(app)  # after Api(): replaces flask-smorest's JSON error handler
    for hook in (
        auth.assign_request_id,
        metrics.start_timer,
        auth.authenticate_request,
        ratelimit.limit_request,
        auth.authorize_request,
        check_body,
        idempotency.claim_key,
    ):
        app.before_request(hook)
    auth.init_app(app)
    ratelimit.init_app(app)
    idempotency.init_app(app)
    metrics.init_app(app)
    for blueprint in (organizations.blp, deals.blp, events.blp, feed.blp, ops.blp, snapshots.blp):
        api.register_blueprint(blueprint)
