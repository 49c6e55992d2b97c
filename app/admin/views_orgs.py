"""Organizations: search by name or alias, register, and the organization page."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from app.admin.blueprint import actor, admin, moment, page_after, read_at, tracker
from app.admin.entry import occurred_or_today
from app.admin.fields import form_fields, recordable_types
from app.admin.forms import FormErrors, read_fields
from app.admin.security import requires
from app.domain.envelope import NewEvent
from app.domain.events import SLUG_RE, ValidationFailed, slugify
from app.runtime import runtime

PAGE = 50
REGISTERED = "organization.registered"


@admin.get("/organizations")
@requires("reader")
def organizations() -> ResponseReturnValue:
    """Search organizations by name or alias, Korean included."""
    q = request.args.get("q", "").strip()
    found = tracker().search_organizations(q or None, limit=PAGE + 1, after=page_after())
    more = found[PAGE - 1]["id"] if len(found) > PAGE else None
    return render_template("admin/organizations.html", q=q, found=found[:PAGE], more=more)


@admin.get("/organizations/suggest")
@requires("reader")
def suggest_organizations() -> ResponseReturnValue:
    """Return up to ten organizations matching ?q=, for the party pickers' suggestions."""
    q = request.args.get("q", "").strip()
    found = tracker().search_organizations(q, limit=10) if q else []
    return jsonify([{"id": org["id"], "name": org["name"]} for org in found])


@admin.route("/organizations/new", methods=["GET", "POST"])
@requires("editor")
def new_organization() -> ResponseReturnValue:
    """Register an organization: its name, id, type and aliases."""
    fields = form_fields(REGISTERED)
    errors = FormErrors()
    if request.method == "POST":
        data = read_fields(fields, request.form, errors)
        occurred_at, precision = occurred_or_today(request.form, errors)
        org_id = request.form.get("id", "").strip() or slugify(data.get("name", ""))
        if SLUG_RE.fullmatch(org_id) and runtime().store.stream_version(f"org:{org_id}"):
            errors.add("id", f"{org_id} is taken by another organization; choose another id")
        if not errors:
            try:
                event = NewEvent(REGISTERED, data, occurred_at, precision, metadata=actor())
                tracker().append(f"org:{org_id}", event)
            except ValidationFailed as failed:
                errors.absorb(failed.errors, ["id", "occurred", *(f.name for f in fields)])
            else:
                flash(f"Registered {data['name']}.")
                return redirect(url_for("admin.organization", org_id=org_id))
    status = 422 if errors else 200
    return render_template(
        "admin/organization_new.html", fields=fields, values=request.form, errors=errors
    ), status


@admin.get("/organizations/<org_id>")
@requires("reader")
def organization(org_id: str) -> ResponseReturnValue:
    """Show an organization: profile, deals, figures with their history, and the timeline."""
    errors = FormErrors()
    at = moment(errors)
    service = tracker()

    def read(as_of: datetime | None, known_at: datetime | None) -> Any:
        state = service.organization_state(org_id, as_of=as_of, known_at=known_at)
        return state, service.history(f"org:{org_id}", known_at=known_at)

    ((state, basis), history), at = read_at(read, at, errors)
    return render_template(
        "admin/organization.html",
        org=state,
        basis=basis,
        history=list(reversed(history)),
        at=at,
        errors=errors,
        record_types=recordable_types("org"),
    )
