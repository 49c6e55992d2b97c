"""Events: the global log (with long-polling), single events, corrections, retractions, batches."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from flask.views import MethodView
from flask_smorest import Blueprint

from app.api import idempotency, schemas
from app.api.auth import event_metadata
from app.api.common import (
    appended,
    appended_json,
    created_status,
    decode_cursor,
    envelope,
    new_event,
    tracker,
)
from app.api.logpage import log_page
from app.api.metrics import count_appended
from app.domain.events import ValidationFailed
from app.runtime import runtime
from app.service import NotFound
from app.store.eventstore import EventStore

blp = Blueprint(
    "events",
    __name__,
    url_prefix="/api/v1",
    description="The event log: every fact as reported, with amendments and batches.",
)
POLL_SECONDS = 0.15


@blp.route("/events")
class EventLog(MethodView):
    @blp.arguments(schemas.LogQuery(), location="query")
    @blp.response(200, schemas.EventPage)
    def get(self, args: dict[str, Any]) -> Any:
        """Read the global log in position order, optionally waiting for new events."""
        cursor = decode_cursor(args.get("cursor"), int)
        after = cursor if cursor is not None else args["after"]
        found = read_log(
            runtime().store,
            after=after,
            limit=args["limit"] + 1,
            types=split_types(args.get("type")),
            stream_id=args.get("stream"),
            wait=args["wait"],
            encoded=True,
        )
        return log_page(found, args["limit"], after)


@blp.route("/events/<uuid:event_id>")
class Event(MethodView):
    @blp.response(200, schemas.Envelope)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, event_id: UUID) -> Any:
        """Return one event with its full envelope."""
        event = runtime().store.get(event_id)
        if event is None:
            raise NotFound(f"there is no event {event_id}")
        return envelope(event)


@blp.route("/events/<uuid:event_id>/corrections")
class Corrections(MethodView):
    @blp.arguments(schemas.Correction())
    @blp.response(201, schemas.AppendResult)
    @blp.alt_response(200, schema=schemas.AppendResult, description="event_id retry: the event")
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, body: dict[str, Any], event_id: UUID) -> Any:
        """Correct an event: append event.corrected to its stream."""
        result = tracker().correct(
            event_id,
            body["changes"],
            body["reason"],
            source=body.get("source"),
            metadata=event_metadata(),
            event_id=body.get("event_id") or idempotency.event_id(0),
        )
        return appended(result)


@blp.route("/events/<uuid:event_id>/retractions")
class Retractions(MethodView):
    @blp.arguments(schemas.Retraction())
    @blp.response(201, schemas.AppendResult)
    @blp.alt_response(200, schema=schemas.AppendResult, description="event_id retry: the event")
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, body: dict[str, Any], event_id: UUID) -> Any:
        """Retract an event: append event.retracted to its stream."""
        result = tracker().retract(
            event_id,
            body["reason"],
            source=body.get("source"),
            metadata=event_metadata(),
            event_id=body.get("event_id") or idempotency.event_id(0),
        )
        return appended(result)


@blp.route("/batches")
class Batches(MethodView):
    @blp.arguments(schemas.Batch())
    @blp.response(201, schemas.BatchResult)
    @blp.alt_response(200, schema=schemas.BatchResult, description="event_id retry: the events")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, body: dict[str, Any]) -> Any:
        """Append events to any streams at once: all of them or none (up to 1000)."""
        writes = [
            (item["stream_id"], new_event(item, index), item.get("expected_version"))
            for index, item in enumerate(body["events"])
        ]
        try:
            result = tracker().append_batch(writes)
        except ValidationFailed as failed:
            if len(writes) > 1:
                raise
            # A batch of one is still a batch: name its fields events.0.…
            raise ValidationFailed(
                {f"events.0.{path}": found for path, found in failed.errors.items()}
            ) from None
        if result.created:
            count_appended(result.events)
        events = [appended_json(event) for event in result.events]
        return {"events": events}, created_status(result)


def split_types(values: Sequence[str] | None) -> list[str] | None:
    """Accept repeated `type` parameters and comma-separated lists alike."""
    if not values:
        return None
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def read_log(
    store: EventStore,
    *,
    after: int,
    limit: int,
    types: Sequence[str] | None,
    stream_id: str | None,
    wait: float,
    encoded: bool = False,
) -> list[Any]:
    """Read the log after a position; with nothing there, poll until something arrives or `wait` ends.

    Appends take the log's lock until they commit and positions are max + 1 under it,
    so `position > after` never skips an event that commits later. `encoded` returns
    rows with their JSON left as text (EventStore.read_all_encoded) instead of events.
    """
    read = store.read_all_encoded if encoded else store.read_all
    deadline = time.monotonic() + wait
    while True:
        found = read(after=after, limit=limit, types=types, stream_id=stream_id)
        remaining = deadline - time.monotonic()
        if found or remaining <= 0:
            return found
        time.sleep(min(POLL_SECONDS, remaining))
