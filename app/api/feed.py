"""The live change feed: the global log as Server-Sent Events, resumable with Last-Event-ID.

Each event is sent with `id` = its position, `event` = its type and `data` = its
envelope as JSON. A comment line keeps idle connections open. The stream ends
after `max_seconds` (or `limit` events); EventSource clients reconnect on their
own and resume after the last id they saw. Each open stream holds a server
thread, so size gunicorn's threads for the number of listeners.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator, Sequence
from typing import Any

from flask import Response, current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy.exc import SQLAlchemyError

from app.api import schemas
from app.api.common import envelope
from app.api.errors import ApiError
from app.api.events import split_types
from app.runtime import runtime
from app.store.eventstore import EventStore

blp = Blueprint("feed", __name__, url_prefix="/api/v1", description="The live change feed (SSE).")
POLL_SECONDS = 0.2
KEEPALIVE_SECONDS = 15.0
RETRY_MILLISECONDS = 2000
BATCH = 500
log = logging.getLogger(__name__)


@blp.route("/events/stream")
class EventStream(MethodView):
    @blp.arguments(schemas.FeedQuery(), location="query")
    @blp.response(200, content_type="text/event-stream", description="Server-Sent Events")
    def get(self, args: dict[str, Any]) -> Any:
        """Follow the log live as Server-Sent Events, resuming after Last-Event-ID."""
        events = follow(
            runtime().store,
            after=_resume_position(args),
            types=split_types(args.get("type")),
            stream_id=args.get("stream"),
            max_seconds=args["max_seconds"],
            limit=args.get("limit"),
            keepalive=float(current_app.config.get("SSE_KEEPALIVE_SECONDS", KEEPALIVE_SECONDS)),
        )
        return Response(
            events,
            mimetype="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )


def _resume_position(args: dict[str, Any]) -> int:
    """Return where to start: after Last-Event-ID if the client sent one, else `after`, else 0."""
    last = request.headers.get("Last-Event-ID")
    if last is None or not last.strip():
        return int(args.get("after") or 0)
    if not last.strip().isdigit():
        raise ApiError(
            422,
            "Last-Event-ID must be a position",
            errors={"Last-Event-ID": ["must be a whole number"]},
        )
    return int(last.strip())


def frame(event: Any) -> str:
    """Return one event as an SSE frame."""
    data = json.dumps(envelope(event), ensure_ascii=False, separators=(",", ":"))
    return f"id: {event.position}\nevent: {event.type}\ndata: {data}\n\n"


def follow(
    store: EventStore,
    *,
    after: int,
    types: Sequence[str] | None,
    stream_id: str | None,
    max_seconds: float,
    limit: int | None,
    keepalive: float,
) -> Iterator[str]:
    """Yield SSE frames for the log after a position until time or the event limit runs out."""
    started = time.monotonic()
    deadline = started + max_seconds
    sent = 0
    last_write = started
    yield f"retry: {RETRY_MILLISECONDS}\n: following the log after position {after}\n\n"
    while True:
        want = BATCH if limit is None else min(BATCH, limit - sent)
        try:
            batch = store.read_all(after=after, limit=want, types=types, stream_id=stream_id)
        except SQLAlchemyError:
            log.warning("change feed stopped: database unavailable")
            yield 'event: error\ndata: {"detail": "database unavailable"}\n\n'
            return
        for event in batch:
            yield frame(event)
            after = event.position
        sent += len(batch)
        current = time.monotonic()
        if batch:
            last_write = current
        if (limit is not None and sent >= limit) or current >= deadline:
            return
        if not batch:
            if current - last_write >= keepalive:
                yield ": keep-alive\n\n"
                last_write = current
            time.sleep(max(0.0, min(POLL_SECONDS, deadline - current)))
