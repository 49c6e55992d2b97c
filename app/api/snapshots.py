"""Snapshots: list them, take one now (admin), read the global state one holds, diff two."""

from __future__ import annotations

from typing import Any

from flask import Response, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields

from app.api.auth import requires
from app.api.common import decode_cursor, page
from app.api.errors import ApiError
from app.api.schemas import Open, PageQuery, Strict
from app.runtime import runtime
from app.snapshots import store
from app.snapshots.diff import diff_states
from app.snapshots.service import take

blp = Blueprint(
    "snapshots",
    __name__,
    url_prefix="/api/v1/snapshots",
    description="The global state (every organization and deal) at one log position, kept as a cache.",
)


class SnapshotBasis(Strict):
    id = fields.Integer()
    schedule = fields.String(allow_none=True, metadata={"description": "null: taken on demand"})
    slot = fields.String(
        allow_none=True, metadata={"description": "the time the schedule fell due"}
    )
    taken_at = fields.String()
    position = fields.Integer(metadata={"description": "the last log position folded in"})
    known_at = fields.String(metadata={"description": "the state as known at this time"})
    fold_schema_version = fields.Integer()
    late = fields.Boolean(metadata={"description": "taken after its slot, by a returning worker"})
    size = fields.Integer(metadata={"description": "bytes of the state's JSON"})


class SnapshotPage(Strict):
    items = fields.List(fields.Nested(SnapshotBasis))
    next_cursor = fields.String(allow_none=True)


class SnapshotState(Strict):
    state = fields.Dict(metadata={"description": "position, organizations and deals"})
    basis = fields.Nested(SnapshotBasis)


class DiffQuery(Strict):
    from_ = fields.Integer(
        data_key="from", required=True, metadata={"description": "the older snapshot's id"}
    )


class EntityChanges(Open):
    added = fields.List(fields.String())
    removed = fields.List(fields.String())
    changed = fields.List(
        fields.Dict(), metadata={"description": "{id, changes: [{path, old, new}]}"}
    )


class SnapshotDiff(Strict):
    from_ = fields.Nested(SnapshotBasis, data_key="from")
    to = fields.Nested(SnapshotBasis)
    organizations = fields.Nested(EntityChanges)
    deals = fields.Nested(EntityChanges)


def _found(snapshot_id: int) -> tuple[store.SnapshotInfo, dict[str, Any]]:
    found = store.get(runtime().engine, snapshot_id)
    if found is None:
        raise ApiError(404, f"there is no snapshot {snapshot_id}")
    return found


@blp.route("")
class Snapshots(MethodView):
    @blp.arguments(PageQuery(), location="query")
    @blp.response(200, SnapshotPage)
    def get(self, args: dict[str, Any]) -> Any:
        """List snapshots, newest first."""
        before = decode_cursor(args.get("cursor"), int)
        found = store.listing(runtime().engine, limit=args["limit"] + 1, before=before)
        return page([info.to_json() for info in found], args["limit"], key=lambda s: s["id"])

    @requires("admin")
    @blp.response(201, SnapshotBasis)
    def post(self) -> Any:
        """Take a snapshot of the global state now."""
        found = runtime()
        taken = take(
            found.engine,
            now=found.clock() if found.clock else None,
            lock_timeout_ms=found.settings.lock_timeout_ms,
        )
        info = store.info(found.engine, int(taken.id or 0))
        if info is None:  # deleted by retention in the meantime: nothing to show
            raise ApiError(404, f"snapshot {taken.id} was deleted as soon as it was taken")
        return info.to_json(), 201, {"Location": f"/api/v1/snapshots/{info.id}"}


@blp.route("/<int:snapshot_id>")
class Snapshot(MethodView):
    @blp.response(200, SnapshotState)
    @blp.alt_response(304, description="Not Modified")
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, snapshot_id: int) -> Any:
        """Return the global state a snapshot holds, with its basis."""
        # A snapshot never changes, so its id is a strong validator.
        etag = f"snapshot-{snapshot_id}"
        if request.if_none_match.contains(etag):
            if store.info(runtime().engine, snapshot_id) is None:
                raise ApiError(404, f"there is no snapshot {snapshot_id}")
            return Response(status=304, headers={"ETag": f'"{etag}"'})
        info, state = _found(snapshot_id)
        return {"state": state, "basis": info.to_json()}, 200, {"ETag": f'"{etag}"'}


@blp.route("/<int:snapshot_id>/diff")
class SnapshotDiffView(MethodView):
    @blp.arguments(DiffQuery(), location="query")
    @blp.response(200, SnapshotDiff)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, args: dict[str, Any], snapshot_id: int) -> Any:
        """Return what changed from snapshot `from` to this one: added, removed and changed fields."""
        old_info, old = _found(args["from_"])
        new_info, new = _found(snapshot_id)
        return {"from_": old_info.to_json(), "to": new_info.to_json(), **diff_states(old, new)}
