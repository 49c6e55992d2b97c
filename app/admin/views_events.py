"""Recording an event from an article (review, then save), correcting it and retracting it."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any
from uuid import UUID

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import MultiDict

from app.admin.blueprint import actor, admin, tracker
from app.admin.effects import effect
from app.admin.entry import (
    Draft,
    current_data,
    draft_correction,
    draft_report,
    draft_retraction,
)
from app.admin.fields import TYPE_TITLES, form_fields, recordable_types
from app.admin.forms import FormData, FormErrors, fill_fields
from app.admin.security import requires
from app.domain.envelope import ATTRIBUTIONS, NewEvent, RecordedEvent, stream_key, stream_kind
from app.domain.events import CREATION_TYPES, EVENT_TYPES, ValidationFailed
from app.runtime import runtime
from app.service import NotFound
from app.store.errors import DuplicateEventId, StoreBusy

NEW_FORM = {"occurred_precision": "day", "source_attribution": "reported"}


def stream_page(stream_id: str) -> str:
    """Return the address of a deal's or an organization's page."""
    if stream_kind(stream_id) == "deal":
        return url_for("admin.deal", deal_id=stream_key(stream_id))
    return url_for("admin.organization", org_id=stream_key(stream_id))


def _stream(stream_id: str) -> dict[str, Any]:
    """Return the state of the deal or organization an event goes to, or answer 404."""
    service, key = tracker(), stream_key(stream_id)
    try:
        if stream_kind(stream_id) == "deal":
            return service.deal_state(key)[0]
        return service.organization_state(key)[0]
    except NotFound as missing:
        abort(404, str(missing))


def _fresh(values: FormData | dict[str, str]) -> FormData:
    """Return form values with a new event id, so a double submit records one event."""
    fresh: FormData = MultiDict(values)
    fresh["event_id"] = str(uuid.uuid4())
    return fresh


def _save(draft: Draft, write: Callable[[NewEvent], Any]) -> bool:
    """Run a write for a reviewed draft; put any refusal on the draft's errors."""
    if draft.event is None:
        return False
    try:
        write(draft.event)
    except ValidationFailed as failed:
        draft.errors.absorb(failed.errors, request.form.keys())
    except DuplicateEventId:
        draft.errors.add("", "This form was saved already. Open the form again to record more.")
    except StoreBusy:
        draft.errors.add("", "The log is busy right now; press Save again in a moment.")
    except NotFound as missing:
        draft.errors.add("", str(missing))
    return not draft.errors


def _write_correction(event: NewEvent) -> None:
    data = event.data
    tracker().correct(
        UUID(data["target_event_id"]),
        data["changes"],
        data["reason"],
        source=event.source,
        metadata=event.metadata,
        event_id=event.event_id,
    )


def _write_retraction(event: NewEvent) -> None:
    data = event.data
    tracker().retract(
        UUID(data["target_event_id"]),
        data["reason"],
        source=event.source,
        metadata=event.metadata,
        event_id=event.event_id,
    )


def _confirmed(draft: Draft) -> bool:
    """Tell whether the editor pressed Save on exactly this draft's review."""
    return (
        draft.valid and "save" in request.form and request.form.get("reviewed") == draft.fingerprint
    )


@admin.route("/deals/<key>/record", methods=["GET", "POST"], defaults={"kind": "deal"})
@admin.route("/organizations/<key>/record", methods=["GET", "POST"], defaults={"kind": "org"})
@requires("editor")
def record(kind: str, key: str) -> ResponseReturnValue:
    """Record what an article reports: fill in, review the parsed amounts, then save."""
    stream_id = f"{kind}:{key}"
    state = _stream(stream_id)
    allowed = recordable_types(kind, state.get("kind") if kind == "deal" else None)
    type_name = request.values.get("type") or allowed[0]
    if type_name not in allowed:
        abort(404, f"{type_name} cannot be recorded here; choose one of: {', '.join(allowed)}")
    draft, events = None, []
    if request.method == "POST":
        draft = draft_report(stream_id, type_name, request.form, actor())
        if _confirmed(draft) and _save(draft, lambda e: tracker().append(stream_id, e)):
            flash(f"Recorded: {TYPE_TITLES[type_name]}.")
            return redirect(stream_page(stream_id))
        if draft.valid and draft.event is not None:
            events = effect(runtime().store.read_stream(stream_id), stream_id, draft.event)
    return render_template(
        "admin/record.html",
        stream_id=stream_id,
        state=state,
        type_name=type_name,
        allowed=allowed,
        fields=form_fields(type_name),
        values=request.form if draft else _fresh(NEW_FORM),
        draft=draft,
        effect=events,
        attributions=ATTRIBUTIONS,
        needs_source=kind == "deal",
    ), (422 if draft and draft.errors else 200)


def _target(event_id: str) -> tuple[RecordedEvent, list[RecordedEvent]]:
    """Return the event to amend and its stream, or answer 404 / 409."""
    try:
        target = runtime().store.get(UUID(event_id))
    except ValueError:
        target = None
    if target is None:
        abort(404, f"there is no event {event_id}")
    if target.type not in EVENT_TYPES or target.type.startswith("event."):
        abort(409, "A correction or retraction cannot be amended; amend the report it refers to.")
    events = runtime().store.read_stream(target.stream_id)
    if current_data(target, events) is None:
        abort(409, "This event has been retracted; there is nothing left to amend.")
    return target, events


@admin.route("/events/<event_id>/correct", methods=["GET", "POST"])
@requires("editor")
def correct(event_id: str) -> ResponseReturnValue:
    """Correct an event's fields with a reason, reviewing what will change before saving."""
    target, events = _target(event_id)
    draft, changes = None, []
    values: FormData = request.form
    if request.method == "GET":
        values = _fresh(fill_fields(form_fields(target.type), current_data(target, events) or {}))
    else:
        draft = draft_correction(target, events, request.form, actor())
        if _confirmed(draft) and _save(draft, _write_correction):
            flash("Correction saved.")
            return redirect(stream_page(target.stream_id))
        if draft.valid and draft.event is not None:
            changes = effect(events, target.stream_id, draft.event)
    return render_template(
        "admin/correct.html",
        target=target,
        fields=form_fields(target.type),
        values=values,
        draft=draft,
        effect=changes,
        back=stream_page(target.stream_id),
    ), (422 if draft and draft.errors else 200)


@admin.route("/events/<event_id>/retract", methods=["GET", "POST"])
@requires("editor")
def retract(event_id: str) -> ResponseReturnValue:
    """Retract an event with a reason, showing what the page will lose."""
    target, events = _target(event_id)
    if target.type in CREATION_TYPES.values():
        abort(409, f"The {target.type} event cannot be retracted; retract the reports instead.")
    errors = FormErrors()
    if request.method == "POST":
        draft = draft_retraction(target, events, request.form, actor())
        if draft.valid and _save(draft, _write_retraction):
            flash("Retraction saved.")
            return redirect(stream_page(target.stream_id))
        errors = draft.errors
    preview = draft_retraction(target, events, MultiDict({"reason": "preview"}), actor())
    changes = effect(events, target.stream_id, preview.event) if preview.event else []
    return render_template(
        "admin/retract.html",
        target=target,
        values=request.form if request.method == "POST" else _fresh({}),
        errors=errors,
        effect=changes,
        back=stream_page(target.stream_id),
    ), (422 if errors else 200)
