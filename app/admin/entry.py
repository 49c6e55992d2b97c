"""Drafts of what an editor is about to record: read from the form, checked, and what they would change."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from app.admin.display import data_rows, field_value
from app.admin.fields import form_fields
from app.admin.forms import (
    PRECISIONS,
    SOURCE_FIELDS,
    FormData,
    FormErrors,
    parse_day,
    read_fields,
    start_of,
)
from app.domain.envelope import NewEvent, RecordedEvent, stream_kind
from app.domain.events import (
    CORRECTED,
    EVENT_TYPES,
    RETRACTED,
    ValidationFailed,
    check_against_stream,
    normalize_new_event,
    referenced_orgs,
)
from app.domain.fold import effective_events
from app.domain.validation import Errors

ENVELOPE_FIELDS = ("occurred", "reason", *(f"source_{name}" for name in SOURCE_FIELDS))


@dataclass
class Draft:
    """An event read from a form: valid (with a fingerprint to confirm) or with errors."""

    event: NewEvent | None
    errors: FormErrors
    fingerprint: str = ""
    rows: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        """Tell whether the draft can be saved."""
        return self.event is not None and not self.errors


def read_occurred(form: FormData, errors: FormErrors) -> tuple[datetime | None, str]:
    """Return when the reported fact holds, at the precision the editor chose."""
    precision = form.get("occurred_precision", "day")
    if precision not in PRECISIONS:
        errors.add("occurred", f"precision must be one of: {', '.join(PRECISIONS)}")
        return None, "day"
    try:
        day = parse_day(form.get("occurred", ""))
    except ValueError as error:
        errors.add("occurred", str(error))
        return None, precision
    return (None if day is None else start_of(day, precision)), precision


def occurred_or_today(form: FormData, errors: FormErrors) -> tuple[datetime, str]:
    """Return when a deal or organization came to be, today unless the editor says otherwise."""
    occurred_at, precision = read_occurred(form, errors)
    if occurred_at is None:
        return start_of(datetime.now(UTC).date(), "day"), "day"
    return occurred_at, precision


def read_source(form: FormData) -> dict[str, Any] | None:
    """Return the source fields typed, or None when no outlet was named at all."""
    source = {name: form.get(f"source_{name}", "").strip() for name in SOURCE_FIELDS}
    source = {name: value for name, value in source.items() if value}
    if not any(name != "attribution" for name in source):
        return None
    return source


def fingerprint(stream_id: str, event: NewEvent) -> str:
    """Return a digest of what an event says, so 'Save' saves exactly what was reviewed."""
    shown = [stream_id, event.type, event.data, event.source, event.occurred_at]
    text = json.dumps(shown, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _finish(stream_id: str, event: NewEvent, errors: FormErrors, names: Sequence[str]) -> Draft:
    """Check an event's own fields and return the draft, errors placed next to the inputs."""
    try:
        normalized = normalize_new_event(stream_id, event)
    except ValidationFailed as failed:
        domain = FormErrors()
        domain.absorb(failed.errors, [*names, *ENVELOPE_FIELDS])
        for name, messages in domain.items():
            if name not in errors:  # a form-level reading problem already says it better
                errors[name] = messages
        return Draft(None, errors)
    if errors:
        return Draft(None, errors)
    return Draft(normalized, errors, fingerprint(stream_id, normalized))


def draft_report(
    stream_id: str, type_name: str, form: FormData, metadata: Mapping[str, Any]
) -> Draft:
    """Read a record-an-event form into a checked draft."""
    errors = FormErrors()
    fields = form_fields(type_name)
    data = read_fields(fields, form, errors)
    occurred_at, precision = read_occurred(form, errors)
    event = NewEvent(
        type=type_name,
        data=data,
        occurred_at=occurred_at,
        occurred_precision=precision,
        source=read_source(form),
        metadata=dict(metadata),
        event_id=_event_id(form),
    )
    draft = _finish(stream_id, event, errors, [f.name for f in fields])
    if draft.event is not None:
        draft.rows = data_rows(draft.event.data)
    return draft


def _event_id(form: FormData) -> UUID | None:
    try:
        return UUID(form.get("event_id", ""))
    except ValueError:
        return None


def current_data(
    target: RecordedEvent, events: Sequence[RecordedEvent]
) -> Mapping[str, Any] | None:
    """Return an event's data as corrected so far, or None if it is retracted."""
    effective, _ = effective_events(events)
    found = next((e for e in effective if e.event_id == target.event_id), None)
    return None if found is None else found.data


def draft_correction(
    target: RecordedEvent,
    events: Sequence[RecordedEvent],
    form: FormData,
    metadata: Mapping[str, Any],
) -> Draft:
    """Read a correction form: the fields that differ from the event as it stands, and why."""
    errors = FormErrors()
    fields = form_fields(target.type)
    current = current_data(target, events) or {}
    typed = read_fields(fields, form, errors)
    checked = Errors()
    new = EVENT_TYPES[target.type].validate_data(typed, checked)
    errors.absorb(checked.by_path, [f.name for f in fields])
    changes: dict[str, Any] = {}
    rows = []
    for spec in fields:
        change = _change(spec.name, spec.widget, current, new, typed)
        if change:
            changes.update(change)
            before, after = current.get(spec.name), new.get(spec.name)
            rows.append((spec.label, field_value(spec.name, before), field_value(spec.name, after)))
    reason = form.get("reason", "").strip()
    if not reason:
        errors.add("reason", "required: say why, e.g. 'the article misprinted the amount'")
    if not changes and not errors:
        errors.add("", "Nothing changed: edit the fields that were wrong, then review again.")
    event = NewEvent(
        type=CORRECTED,
        data={"target_event_id": str(target.event_id), "changes": changes, "reason": reason},
        source=read_source(form),
        metadata=dict(metadata),
        event_id=_event_id(form),
    )
    draft = _check_amend(target, events, event, errors, [f.name for f in fields])
    draft.rows = rows
    return draft


def _change(
    name: str,
    widget: str,
    current: Mapping[str, Any],
    new: Mapping[str, Any],
    typed: Mapping[str, Any],
) -> dict[str, Any]:
    """Return the changes for one field: none when it reads the same as before."""
    if widget != "money":
        return {name: new.get(name)} if new.get(name) != current.get(name) else {}
    text_name = f"{name}_text"
    if new.get(name) != current.get(name):
        if new.get(name) is None:
            return {name: None, text_name: None}
        return {k: typed[k] for k in (name, text_name) if k in typed}
    old_text, new_text = current.get(text_name), new.get(text_name)
    if old_text is not None and new_text is not None and old_text != new_text:
        return {text_name: new_text}  # the same amount, worded as the source prints it
    return {}


def draft_retraction(
    target: RecordedEvent,
    events: Sequence[RecordedEvent],
    form: FormData,
    metadata: Mapping[str, Any],
) -> Draft:
    """Read a retraction form: the event to withdraw and why."""
    errors = FormErrors()
    reason = form.get("reason", "").strip()
    if not reason:
        errors.add("reason", "required: say why, e.g. 'the outlet withdrew the story'")
    event = NewEvent(
        type=RETRACTED,
        data={"target_event_id": str(target.event_id), "reason": reason},
        source=read_source(form),
        metadata=dict(metadata),
        event_id=_event_id(form),
    )
    return _check_amend(target, events, event, errors, [])


def _check_amend(
    target: RecordedEvent,
    events: Sequence[RecordedEvent],
    event: NewEvent,
    errors: FormErrors,
    names: Sequence[str],
) -> Draft:
    """Check a correction or retraction against its stream (organizations are checked on save)."""
    if errors:
        return Draft(None, errors)
    if event.source is None and stream_kind(target.stream_id) == "deal":
        event = replace(event, source={"publisher": "editorial", "attribution": "official"})
    draft = _finish(target.stream_id, event, errors, names)
    if draft.event is None:
        return draft
    try:
        check_against_stream(target.stream_id, draft.event, events, referenced_orgs(draft.event))
    except ValidationFailed as failed:
        errors.absorb(failed.errors, [*names, *ENVELOPE_FIELDS])
        return Draft(None, errors)
    return draft
