"""Operational endpoints: liveness and readiness."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import SQLAlchemyError

from app.runtime import runtime
from app.store import migrate

ops = Blueprint("ops", __name__)


@ops.get("/healthz")
def healthz() -> ResponseReturnValue:
    """Answer as soon as the process is up."""
    return jsonify(status="ok")


@ops.get("/readyz")
def readyz() -> ResponseReturnValue:
    """Answer 200 only when the database is reachable and migrations are at head."""
    try:
        at_head = migrate.is_at_head(runtime().engine)
    except SQLAlchemyError:
        return _unready("the database cannot be reached")
    if not at_head:
        return _unready("the database schema is not at the newest migration")
    return jsonify(status="ready")


def _unready(detail: str) -> ResponseReturnValue:
    """Answer 503 as application/problem+json, like every other error."""
    body = {"type": "about:blank", "title": "Not ready", "status": 503, "detail": detail}
    response = jsonify(body)
    response.status_code = 503
    response.mimetype = "application/problem+json"
    response.headers["Retry-After"] = "5"
    return response
