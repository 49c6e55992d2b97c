"""Metrics for Prometheus (no token needed); /healthz and /readyz live in app.ops."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from app.api.metrics import exposition
from app.runtime import runtime

blp = Blueprint("operations", __name__, description="Operations: metrics.")


@blp.route("/metrics")
class Metrics(MethodView):
    @blp.doc(security=[])
    @blp.response(200, content_type="text/plain", description="Prometheus text format")
    def get(self) -> Any:
        """Return the Prometheus metrics."""
        return exposition(runtime().engine)
