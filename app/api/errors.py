"""Every error as application/problem+json (RFC 9457), never HTML and never a stack trace."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

import psycopg
from flask import Flask, Response
from sqlalchemy.exc import DataError, DBAPIError, InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

from app.domain.events import ValidationFailed
from app.service import NotFound
from app.store.errors import (
    DuplicateEventId,
    RecordedAtWentBackwards,
    StoreBusy,
    StoreUnavailable,
    StreamNotCreated,
    WrongExpectedVersion,
)

PROBLEM_JSON = "application/problem+json"
RETRY_AFTER_SECONDS = 2
log = logging.getLogger(__name__)

# Headers of an HTTP exception worth keeping on the problem response.
_KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")


class ApiError(Exception):
    """An error the API answers with a problem document."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        title: str | None = None,
        type_: str = "about:blank",
        errors: Mapping[str, list[str]] | None = None,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.title = title
        self.type = type_
        self.errors = errors
        self.headers = dict(headers or {})
        self.extra = extra


def problem(
    status: int,
    detail: str | None = None,
    *,
    title: str | None = None,
    type_: str = "about:blank",
    errors: Mapping[str, list[str]] | None = None,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> Response:
    """Return a problem+json response."""
    body: dict[str, Any] = {
        "type": type_,
        "title": title or _phrase(status),
        "status": status,
        "detail": detail or _phrase(status),
    }
    if errors is not None:
        body["errors"] = {path: list(messages) for path, messages in errors.items()}
    body.update(extra)
    response = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM_JSON)
    response.headers.update(dict(headers or {}))
    return response


def flatten_messages(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """Turn webargs/marshmallow nested messages into {dotted.field.path: [messages]}."""
    if isinstance(messages, Mapping):
        flat: dict[str, list[str]] = {}
        for key, value in messages.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            for sub_path, sub_messages in flatten_messages(value, path).items():
                flat.setdefault(sub_path, []).extend(sub_messages)
        return flat
    if isinstance(messages, list | tuple) and all(isinstance(m, str) for m in messages):
        return {prefix or "body": [str(m) for m in messages]}
    if isinstance(messages, list | tuple):
        flat = {}
        for item in messages:
            for path, found in flatten_messages(item, prefix).items():
                flat.setdefault(path, []).extend(found)
        return flat
    return {prefix or "body": [str(messages)]}


def _phrase(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def handle_http_exception(error: HTTPException) -> Response:
    """Answer Flask's, Werkzeug's and webargs' HTTP errors as problems."""
    status = error.code or 500
    headers = {k: v for k, v in error.get_headers() if k in _KEPT_HEADERS}
    data = getattr(error, "data", None) or {}
    headers.update(data.get("headers") or {})
    if "messages" in data:
        errors = flatten_messages(_without_locations(data["messages"]))
        if status == 400:
            return problem(400, "the body is not valid JSON", headers=headers)
        return problem(
            status,
            "some fields are invalid; see errors",
            type_="urn:dealtracker:problem:invalid-fields",
            errors=errors,
            headers=headers,
        )
    if status == 400:
        return problem(400, "the request could not be understood", headers=headers)
    if status == 413:
        return problem(413, "the request body is larger than this server accepts", headers=headers)
    if status >= 500:
        return problem(status, "the server could not answer this request", headers=headers)
    return problem(status, error.description, headers=headers)


def _without_locations(messages: Any) -> Any:
    """Drop webargs' location level ({"json": {...}, "query": {...}})."""
    if isinstance(messages, Mapping) and set(messages) <= {
        "json",
        "query",
        "path",
        "headers",
        "view_args",
        "form",
        "files",
        "cookies",
    }:
        merged: dict[str, Any] = {}
        for value in messages.values():
            if isinstance(value, Mapping):
                merged.update(value)
            else:
                merged.setdefault("body", value)
        return merged
    return messages


def handle_api_error(error: ApiError) -> Response:
    """Answer an ApiError."""
    return problem(
        error.status,
        error.detail,
        title=error.title,
        type_=error.type,
        errors=error.errors,
        headers=error.headers,
        **error.extra,
    )


def handle_validation_failed(error: ValidationFailed) -> Response:
    """Answer a domain validation failure with every field it names."""
    return problem(
        422,
        "the event is not valid; see errors",
        type_="urn:dealtracker:problem:invalid-fields",
        errors=error.errors,
    )


def handle_not_found(error: NotFound) -> Response:
    """Answer a missing organization, deal or event."""
    return problem(404, str(error))


def handle_wrong_version(error: WrongExpectedVersion) -> Response:
    """Answer a stale expected_version in the body (If-Match failures become 412 in the views)."""
    return problem(
        409,
        str(error),
        title="Version conflict",
        type_="urn:dealtracker:problem:version-conflict",
        current_version=error.current,
        stream_id=error.stream_id,
    )


def handle_conflict(error: Exception) -> Response:
    """Answer a write that contradicts what the log already holds."""
    return problem(409, str(error), type_="urn:dealtracker:problem:conflict")


def handle_unavailable(error: Exception) -> Response:
    """Answer a busy event log or an unreachable database: retry later."""
    if isinstance(error, StoreBusy):
        detail = "the event log is busy; try again shortly"
    else:
        log.warning("database unavailable: %s", type(error).__name__)
        detail = "the database cannot be reached; try again shortly"
    return problem(503, detail, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def handle_unstorable(error: Exception) -> Response:
    """Answer a value PostgreSQL refuses (a NUL character, a number out of range) as invalid input."""
    log.warning("a request carried a value the database refused: %s", type(error).__name__)
    return problem(
        422,
        "a value in the request cannot be stored or searched for: text with a NUL character,"
        " or a number out of range",
        type_="urn:dealtracker:problem:invalid-fields",
    )


def handle_unexpected(error: Exception) -> Response:
    """Answer anything unforeseen with a bare 500 and log it, never showing the trace or SQL."""
    if isinstance(error, HTTPException):
        return handle_http_exception(error)
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return handle_unavailable(error)
    log.exception("unhandled error")
    return problem(500, "the server could not answer this request")


def init_app(app: Flask) -> None:
    """Register the problem+json handlers (after flask-smorest's, which they replace)."""
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(ApiError, handle_api_error)
    app.register_error_handler(ValidationFailed, handle_validation_failed)
    app.register_error_handler(NotFound, handle_not_found)
    app.register_error_handler(WrongExpectedVersion, handle_wrong_version)
    for conflict in (StreamNotCreated, DuplicateEventId, RecordedAtWentBackwards):
        app.register_error_handler(conflict, handle_conflict)
    for unavailable in (
        StoreBusy,
        StoreUnavailable,
        OperationalError,
        InterfaceError,
        psycopg.OperationalError,
        psycopg.InterfaceError,
    ):
        app.register_error_handler(unavailable, handle_unavailable)
    # Data exceptions (SQLSTATE class 22) come from the values a request passed in.
    for unstorable in (DataError, psycopg.DataError):
        app.register_error_handler(unstorable, handle_unstorable)
    app.register_error_handler(Exception, handle_unexpected)
