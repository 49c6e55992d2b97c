"""Organizations: register, search, state (as of / as known at), events and history."""

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
from app.domain.envelope import NewEvent
from app.domain.events import slugify

blp = Blueprint(
    "organizations",
    __name__,
    url_prefix="/api/v1/organizations",
    description="Companies, investors and others: profiles, aliases, figures, announcements.",
)
PROFILE_FIELDS = ("name", "kind", "country", "website", "aliases")


@blp.route("")
class Organizations(MethodView):
    @blp.arguments(schemas.OrganizationSearchQuery(), location="query")
    @blp.response(200, schemas.Page)
    def get(self, args: dict[str, Any]) -> Any:
        """Search organizations by name or alias."""
        after = decode_cursor(args.get("cursor"))
        found = tracker().search_organizations(args.get("q"), limit=args["limit"] + 1, after=after)
        return page(found, args["limit"], key=lambda state: state["id"])

    @blp.arguments(schemas.OrganizationCreate())
    @blp.response(201, schemas.StateResponse)
    @blp.alt_response(409, response="CONFLICT")
    def post(self, body: dict[str, Any]) -> Any:
        """Register an organization (an organization.registered event)."""
        org_id = body.get("id") or slugify(body["name"], "org")
        event = NewEvent(
            type="organization.registered",
            data={k: body[k] for k in PROFILE_FIELDS if body.get(k) is not None},
            occurred_at=body.get("occurred_at") or now(),
            occurred_precision=body["occurred_precision"],
            source=body.get("source"),
            metadata=event_metadata(),
            event_id=idempotency.event_id(0),
        )
        create_stream(f"org:{org_id}", event)
        state, basis = tracker().organization_state(org_id)
        return state_answer(
            state, basis, status=201, headers={"Location": f"/api/v1/organizations/{org_id}"}
        )


@blp.route("/<string:org_id>")
class Organization(MethodView):
    @blp.arguments(schemas.StateQuery(), location="query")
    @blp.response(200, schemas.StateResponse)
    @blp.alt_response(304, description="Not Modified")
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, args: dict[str, Any], org_id: str) -> Any:
        """Return an organization's state, now or as of / as known at a time."""
        state, basis = tracker().organization_state(
            org_id, as_of=args.get("as_of"), known_at=args.get("known_at")
        )
        return state_answer(state, basis)


@blp.route("/<string:org_id>/events")
class OrganizationEvents(MethodView):
    @blp.arguments(schemas.HistoryQuery(), location="query")
    @blp.response(200, schemas.Page)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, args: dict[str, Any], org_id: str) -> Any:
        """Return the organization's events with provenance and each one's effect."""
        return history_page(f"org:{org_id}", args)

    @blp.arguments(schemas.EventAppend())
    @blp.response(201, schemas.AppendResult)
    @blp.alt_response(200, schema=schemas.AppendResult, description="event_id retry: the event")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(412, response="PRECONDITION_FAILED")
    def post(self, body: dict[str, Any], org_id: str) -> Any:
        """Append one event to the organization's stream."""
        return append_to(f"org:{org_id}", body)
