"""Deals: open, list, state (as of / as known at), events and history."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from app.api import idempotency, schemas
from app.api.auth import event_metadata
from app.api.common import (
    append_to,
    create_stream,
    decode_cursor,
    history_page,
    now,
    page,
    state_answer,
    tracker,
)
from app.api.states import encoded_state_answer
from app.domain.envelope import NewEvent
from app.domain.events import slugify

blp = Blueprint(
    "deals",
    __name__,
    url_prefix="/api/v1/deals",
    description="Investments, partnerships and acquisitions between organizations.",
)


@blp.route("")
class Deals(MethodView):
    @blp.arguments(schemas.DealListQuery(), location="query")
    @blp.response(200, schemas.Page)
    def get(self, args: dict[str, Any]) -> Any:
        """List deals, filtered by party, kind and status."""
        found = tracker().list_deals(
            party=args.get("party"),
            kind=args.get("kind"),
            status=args.get("status"),
            limit=args["limit"] + 1,
            after=decode_cursor(args.get("cursor")),
        )
        return page(found, args["limit"], key=lambda state: state["id"])

    @blp.arguments(schemas.DealCreate())
    @blp.response(201, schemas.StateResponse)
    @blp.alt_response(409, response="CONFLICT")
    def post(self, body: dict[str, Any]) -> Any:
        """Open a deal (a deal.opened event)."""
        deal_id = body.get("id") or slugify(body["title"], "deal")
        event = NewEvent(
            type="deal.opened",
            data={"kind": body["kind"], "title": body["title"], "parties": body["parties"]},
            occurred_at=body.get("occurred_at") or now(),
            occurred_precision=body["occurred_precision"],
            source=body.get("source"),
            metadata=event_metadata(),
            event_id=idempotency.event_id(0),
        )
        create_stream(f"deal:{deal_id}", event)
        state, basis = tracker().deal_state(deal_id)
        return state_answer(
            state, basis, status=201, headers={"Location": f"/api/v1/deals/{deal_id}"}
        )


@blp.route("/<string:deal_id>")
class Deal(MethodView):
    @blp.arguments(schemas.StateQuery(), location="query")
    @blp.response(200, schemas.StateResponse)
    @blp.alt_response(304, description="Not Modified")
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, args: dict[str, Any], deal_id: str) -> Any:
        """Return a deal's state, now or as of / as known at a time."""
        encoded, basis = tracker().deal_state_json(
            deal_id, as_of=args.get("as_of"), known_at=args.get("known_at")
        )
        return encoded_state_answer(encoded, basis)


@blp.route("/<string:deal_id>/events")
class DealEvents(MethodView):
    @blp.arguments(schemas.HistoryQuery(), location="query")
    @blp.response(200, schemas.Page)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, args: dict[str, Any], deal_id: str) -> Any:
        """Return the deal's events with provenance and each one's effect."""
        return history_page(f"deal:{deal_id}", args)

    @blp.arguments(schemas.EventAppend())
    @blp.response(201, schemas.AppendResult)
    @blp.alt_response(200, schema=schemas.AppendResult, description="event_id retry: the event")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(412, response="PRECONDITION_FAILED")
    def post(self, body: dict[str, Any], deal_id: str) -> Any:
        """Append one event to the deal's stream."""
        return append_to(f"deal:{deal_id}", body)
