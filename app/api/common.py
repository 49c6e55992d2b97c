"""What the views share: the service, cursors and pages, conditional answers, envelopes, appends."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from flask import Response, request, url_for

from app.api import idempotency
from app.api.auth import event_metadata
from app.api.errors import ApiError
from app.api.metrics import count_appended
from app.domain.envelope import NewEvent, RecordedEvent, iso, stream_key, stream_kind
from app.domain.events import CREATION_TYPES, ValidationFailed
from app.runtime import runtime
from app.service import Basis, DealTracker, NotFound
from app.store.errors import WrongExpectedVersion
from app.store.eventstore import AppendResult

Headers = dict[str, str]
Answer = tuple[Any, int, Headers]
_IF_MATCH_RE = re.compile(r'\s*(?:W/)?"?(\d+)(?:[-."][^,]*)?\s*')


def tracker() -> DealTracker:
    """Return the application service for this request."""
    found = runtime()
    return DealTracker(found.store, clock=found.clock)


def now() -> datetime:
    """Return the current time by the app's clock."""
    clock = runtime().clock
    return clock() if clock else datetime.now(UTC)


# --- cursors and pages ----------------------------------------------------------------------


def encode_cursor(value: Any) -> str:
    """Return an opaque cursor for the last item of a page."""
    raw = json.dumps({"after": value}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, kind: type = str) -> Any:
    """Return what a cursor points after, or None; a cursor this API did not make is 422."""
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))["after"]
    except (ValueError, KeyError, TypeError, binascii.Error):
        value = None
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ApiError(
            422, "the cursor is not one this API returned", errors={"cursor": ["invalid cursor"]}
        )
    return value


def page(items: Sequence[Any], limit: int, key: Callable[[Any], Any], **extra: Any) -> Answer:
    """Answer a page from up to limit + 1 items, with next_cursor and a Link header."""
    shown = list(items[:limit])
    next_cursor = encode_cursor(key(shown[-1])) if len(items) > limit and shown else None
    headers: Headers = {}
    if next_cursor is not None:
        headers["Link"] = f'<{next_url(next_cursor)}>; rel="next"'
    return {"items": shown, "next_cursor": next_cursor, **extra}, 200, headers


def next_url(cursor: str) -> str:
    """Return this request's URL with the cursor replaced."""
    values: dict[str, Any] = {**request.args.to_dict(flat=False), **(request.view_args or {})}
    values["cursor"] = cursor
    return url_for(request.endpoint or "", **values)


# --- conditional answers ----------------------------------------------------------------


def state_answer(
    state: dict[str, Any],
    basis: Basis,
    *,
    status: int = 200,
    headers: Headers | None = None,
) -> Answer | Response:
    """Answer a state with a strong ETag, or 304 when the client's copy is current.

    The ETag is the stream version and a digest of the state and the question
    (as_of, known_at), so it changes exactly when the state does, not whenever
    the global log moves on (basis.position may advance under the same ETag).
    """
    question = [state, iso(basis.as_of), iso(basis.known_at)]
    digest = hashlib.sha256(
        json.dumps(question, sort_keys=True, default=str, ensure_ascii=False).encode()
    ).hexdigest()[:20]
    etag = f"{state.get('version', 0)}-{digest}"
    all_headers = {"ETag": f'"{etag}"', **(headers or {})}
    if status == 200 and request.if_none_match.contains_weak(etag):
        return Response(status=304, headers=all_headers)
    return {"state": state, "basis": basis.to_json()}, status, all_headers


# --- events -----------------------------------------------------------------------------


def envelope(event: RecordedEvent) -> dict[str, Any]:
    """Return the full envelope of an event, JSON-ready."""
    return {
        "position": event.position,
        "event_id": str(event.event_id),
        "stream_id": event.stream_id,
        "version": event.version,
        "type": event.type,
        "schema_version": event.schema_version,
        "occurred_at": iso(event.occurred_at),
        "occurred_precision": event.occurred_precision,
        "recorded_at": iso(event.recorded_at),
        "data": _plain(event.data),
        "source": _plain(event.source) if event.source is not None else None,
        "metadata": _plain(event.metadata),
    }


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def appended_json(event: RecordedEvent) -> dict[str, Any]:
    """Return what a writer needs to know about an event it appended."""
    return {
        "event_id": str(event.event_id),
        "stream_id": event.stream_id,
        "version": event.version,
        "position": event.position,
        "recorded_at": iso(event.recorded_at),
    }


def event_location(event: RecordedEvent) -> str:
    """Return the URL of one event."""
    return f"/api/v1/events/{event.event_id}"


def appended(result: AppendResult) -> Answer:
    """Answer an append: 201 with the event (200 when it was an event_id retry), Location, ETag."""
    if result.created:
        count_appended(result.events)
    event = result.events[-1]
    headers = {"Location": event_location(event), "ETag": f'"{event.version}"'}
    return appended_json(event), created_status(result), headers


def created_status(result: AppendResult) -> int:
    """Return 201 for a new write, or the retry of a keyed one whose answer was lost; else 200."""
    return 201 if result.created or idempotency.took_over() else 200


def new_event(body: Mapping[str, Any], index: int = 0) -> NewEvent:
    """Build the index-th event a request appends from its body, stamped with the request's metadata."""
    return NewEvent(
        type=body["type"],
        data=body["data"],
        occurred_at=body.get("occurred_at"),
        occurred_precision=body.get("occurred_precision") or "instant",
        source=body.get("source"),
        metadata=event_metadata(),
        event_id=body.get("event_id") or idempotency.event_id(index),
    )


def if_match_version() -> int | None:
    """Return the version an If-Match header expects (None without one or with `*`); 412 if unreadable."""
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return None
    match = _IF_MATCH_RE.fullmatch(header.split(",")[0])
    if match is None:
        raise ApiError(412, 'If-Match must be a stream version like "3"')
    return int(match.group(1))


def append_to(stream_id: str, body: Mapping[str, Any]) -> Answer:
    """Append one event to an existing stream (or create it with its creation event)."""
    service = tracker()
    expected_by_header = if_match_version()
    expected = (
        expected_by_header if expected_by_header is not None else body.get("expected_version")
    )
    needs_stream = body["type"] != CREATION_TYPES.get(stream_kind(stream_id))
    try:
        result = service.append(stream_id, new_event(body), expected)
    except ValidationFailed:
        # Asked only when the append failed: most appends go to a stream that exists.
        if needs_stream and service.store.stream_version(stream_id) == 0:
            raise _missing(stream_id) from None
        raise
    except WrongExpectedVersion as conflict:
        if needs_stream and conflict.current == 0:
            raise _missing(stream_id) from None
        if expected_by_header is None:
            raise
        raise ApiError(
            412,
            f"If-Match expected version {conflict.expected}; {stream_id} is at {conflict.current}",
            title="Precondition Failed",
            current_version=conflict.current,
        ) from None
    return appended(result)


def _missing(stream_id: str) -> NotFound:
    name = "organization" if stream_kind(stream_id) == "org" else "deal"
    return NotFound(f"there is no {name} {stream_key(stream_id)}")


def history_page(stream_id: str, args: Mapping[str, Any]) -> Answer:
    """Answer a page of a stream's history, each event with provenance and effect."""
    after = decode_cursor(args.get("cursor"), int) or 0
    entries = tracker().history(stream_id, known_at=args.get("known_at"))
    rest = [entry for entry in entries if int(entry["version"]) > after]
    return page(rest[: args["limit"] + 1], args["limit"], key=lambda entry: entry["version"])


def create_stream(stream_id: str, event: NewEvent) -> None:
    """Append a new stream's creation event: 409 if the stream exists; fields named as in the body."""
    service = tracker()
    if event.event_id is not None:
        earlier = service.store.get(event.event_id)
        if earlier is not None and earlier.stream_id == stream_id:
            return  # a keyed retry of a create that went through before its answer was lost
    _refuse_existing(service, stream_id)
    try:
        result = service.append(stream_id, event, 0)
    except ValidationFailed as failed:
        _refuse_existing(service, stream_id)  # created by a concurrent request meanwhile
        errors = {path.removeprefix("data."): found for path, found in failed.errors.items()}
        raise ValidationFailed(errors) from None
    count_appended(result.events)


def _refuse_existing(service: DealTracker, stream_id: str) -> None:
    if service.store.stream_version(stream_id) > 0:
        name = "organization" if stream_kind(stream_id) == "org" else "deal"
        raise ApiError(409, f"{name} {stream_key(stream_id)} already exists", title="Conflict")
