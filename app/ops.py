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
        return jsonify(status="unavailable", reason="database unreachable"), 503
    if not at_head:
        return jsonify(status="unavailable", reason="migrations not at head"), 503
    return jsonify(status="ready")
