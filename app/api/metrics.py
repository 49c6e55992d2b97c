"""Prometheus metrics: requests by route and status, latency, events appended, projection lag.

With PROMETHEUS_MULTIPROC_DIR set (gunicorn with several workers), every worker
writes its samples there and /metrics aggregates them.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterable, Iterator

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine, text

from app.domain.envelope import RecordedEvent
from app.metrics_extra import SnapshotsAndJobs

REQUESTS = Counter(
    "dealtracker_http_requests_total",
    "HTTP requests answered, by route template, method and status",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "dealtracker_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template and method",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
EVENTS_APPENDED = Counter(
    "dealtracker_events_appended_total", "Events appended through the API, by type", ["type"]
)
_CONVERTER_RE = re.compile(r"<(?:\w+:)?(\w+)>")


def count_appended(events: Iterable[RecordedEvent]) -> None:
    """Count newly appended events by type."""
    for event in events:
        EVENTS_APPENDED.labels(type=event.type).inc()


class ProjectionLag(Collector):
    """How far the read models trail the log: head position minus their checkpoint."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """Measure the lag now (one query per scrape)."""
        gauge = GaugeMetricFamily(
            "dealtracker_projection_lag_events",
            "Events in the log that the read models do not reflect yet",
        )
        head = GaugeMetricFamily("dealtracker_log_head_position", "Highest position in the log")
        with self.engine.connect() as conn:
            row = conn.execute(
                text(
                    "SELECT (SELECT coalesce(max(position), 0) FROM events),"
                    " (SELECT coalesce(max(position), 0) FROM projection_checkpoints"
                    "  WHERE name = 'read_models')"
                )
            ).one()
        gauge.add_metric([], max(0, int(row[0]) - int(row[1])))
        head.add_metric([], int(row[0]))
        yield gauge
        yield head


def exposition(engine: Engine) -> Response:
    """Return every metric in the Prometheus text format."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        body = generate_latest(registry)
    else:
        body = generate_latest(REGISTRY)
    lag = CollectorRegistry()
    lag.register(ProjectionLag(engine))
    lag.register(SnapshotsAndJobs(engine))
    body += generate_latest(lag)
    return Response(body, content_type=CONTENT_TYPE_LATEST)


def start_timer() -> None:
    """Note when the request started."""
    g.started = time.perf_counter()


def observe(response: Response) -> Response:
    """Count the request under its route template (not its URL, which would explode the labels)."""
    rule = request.url_rule.rule if request.url_rule is not None else "unmatched"
    route = _CONVERTER_RE.sub(r"<\1>", rule)
    REQUESTS.labels(route=route, method=request.method, status=str(response.status_code)).inc()
    started = g.get("started")
    if started is not None:
        LATENCY.labels(route=route, method=request.method).observe(time.perf_counter() - started)
    return response


def init_app(app: Flask) -> None:
    """Time and count every request."""
    app.after_request(observe)
