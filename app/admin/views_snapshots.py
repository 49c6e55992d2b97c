"""Snapshots: the list, and a readable diff between two of them."""

from __future__ import annotations

from typing import Any

from flask import abort, render_template, request
from flask.typing import ResponseReturnValue

from app.admin.blueprint import admin
from app.admin.security import requires
from app.admin.snapshot_diff import readable
from app.runtime import runtime

PAGE = 50


def _snapshots() -> Any:
    """Return the snapshots store module, or None before snapshots exist in this build."""
    try:
        from app.snapshots import store
    except ImportError:
        return None
    return store


@admin.get("/snapshots")
@requires("reader")
def snapshots() -> ResponseReturnValue:
    """List snapshots, newest first, with a form to compare two."""
    store = _snapshots()
    before = request.args.get("before", type=int)
    found = store.listing(runtime().engine, limit=PAGE, before=before) if store else []
    return render_template("admin/snapshots.html", snapshots=found, page=PAGE)


@admin.get("/snapshots/diff")
@requires("reader")
def snapshot_diff() -> ResponseReturnValue:
    """Show what changed between two snapshots: organizations and deals added, removed, changed."""
    store = _snapshots()
    old_id, new_id = request.args.get("old", type=int), request.args.get("new", type=int)
    if store is None or old_id is None or new_id is None:
        abort(400, "Choose two snapshots to compare.")
    old, new = store.get(runtime().engine, old_id), store.get(runtime().engine, new_id)
    if old is None or new is None:
        abort(404, "One of these snapshots does not exist (it may have expired).")
    from app.snapshots.diff import diff_states

    diff = diff_states(old[1], new[1])
    sections = {kind: readable(part, old[1][kind], new[1][kind]) for kind, part in diff.items()}
    return render_template(
        "admin/snapshot_diff.html", old=old[0], new=new[0], sections=sections, states=new[1]
    )
