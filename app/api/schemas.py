"""The shapes of requests and responses at the HTTP edge (marshmallow; the domain validates the rest)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from app.domain.envelope import PRECISIONS
from app.domain.events import DEAL_KINDS, EVENT_TYPES, ORG_KINDS

SLUG = validate.Regexp(r"^[a-z0-9][a-z0-9-]{0,79}$", error="must be a slug: a-z, 0-9 and -")
MAX_LIMIT = 500
MAX_WAIT_SECONDS = 30
MAX_BATCH = 1000
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")


class Moment(fields.Field):
    """A point in time: RFC 3339 with a zone, or a date YYYY-MM-DD.

    A bare date means the start of that day (UTC) for valid times a writer gives
    (`occurred_at`), and its end for the time a question is asked about
    (`as_of`, `known_at`): "as of 31 December" includes all of 31 December.
    """

    def __init__(self, *, date_means: str = "end", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.date_means = date_means

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        if not isinstance(value, str):
            raise ma.ValidationError("must be a string: RFC 3339 with a zone, or YYYY-MM-DD")
        text = value.strip()
        try:
            if _DATE_RE.fullmatch(text):
                day = date.fromisoformat(text)
                moment = time.max if self.date_means == "end" else time.min
                return datetime.combine(day, moment, tzinfo=UTC)
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise ma.ValidationError(
                "not a date or time; use RFC 3339 like 2024-03-27T09:00:00Z or a date 2024-03-27"
            ) from None
        if parsed.tzinfo is None:
            raise ma.ValidationError("a time needs a zone, e.g. 2024-03-27T09:00:00Z")
        try:
            parsed.astimezone(UTC)  # 9999-12-31T23:59-14:00 is a valid string but no UTC time
        except OverflowError:
            raise ma.ValidationError(
                "out of range: must fall within the years 1 to 9999 in UTC"
            ) from None
        return parsed


class Strict(ma.Schema):
    """Refuse fields the endpoint does not know (a typo would otherwise vanish silently)."""

    class Meta:
        unknown = ma.RAISE


class Open(ma.Schema):
    """A response object that may carry more fields than documented."""

    class Meta:
        unknown = ma.INCLUDE


# --- query strings ----------------------------------------------------------------------


class PageQuery(Strict):
    limit = fields.Integer(
        load_default=50,
        validate=validate.Range(1, MAX_LIMIT),
        metadata={"description": "page size"},
    )
    cursor = fields.String(
        validate=validate.Length(max=500),
        metadata={"description": "opaque cursor from the previous page's next_cursor"},
    )


class StateQuery(Strict):
    as_of = Moment(
        metadata={"description": "valid time: what held then (RFC 3339, or a date: its end)"}
    )
    known_at = Moment(
        metadata={
            "description": "transaction time: what the tracker knew then (RFC 3339, or a date: its end)"
        }
    )


class OrganizationSearchQuery(PageQuery):
    q = fields.String(
        validate=validate.Length(max=500),
        metadata={"description": "part of a name or alias (NFKC, case-insensitive)"},
    )


class DealListQuery(PageQuery):
    party = fields.String(validate=SLUG, metadata={"description": "an organization id"})
    kind = fields.String(validate=validate.OneOf(DEAL_KINDS))
    status = fields.String(validate=validate.Length(max=50))


class HistoryQuery(PageQuery):
    known_at = Moment(metadata={"description": "the history as known then"})


class LogQuery(PageQuery):
    after = fields.Integer(
        load_default=0,
        validate=validate.Range(0),
        metadata={"description": "position to start after"},
    )
    type = fields.List(
        fields.String(validate=validate.Length(max=100)),
        metadata={"description": "only these event types (repeat, or separate with commas)"},
    )
    stream = fields.String(
        validate=validate.Length(max=100), metadata={"description": "only this stream, e.g. deal:x"}
    )
    wait = fields.Float(
        load_default=0,
        validate=validate.Range(0, MAX_WAIT_SECONDS),
        metadata={"description": "seconds to wait for new events when there are none (≤ 30)"},
    )


class FeedQuery(Strict):
    after = fields.Integer(
        validate=validate.Range(0),
        metadata={"description": "position to start after (Last-Event-ID takes precedence)"},
    )
    type = fields.List(fields.String(validate=validate.Length(max=100)))
    stream = fields.String(validate=validate.Length(max=100))
    max_seconds = fields.Float(
        load_default=300,
        validate=validate.Range(0, 3600),
        metadata={"description": "close the stream after this many seconds (clients reconnect)"},
    )
    limit = fields.Integer(
        validate=validate.Range(1, 1_000_000),
        metadata={"description": "close the stream after this many events"},
    )


# --- request bodies -----------------------------------------------------------------------

_SOURCE = fields.Dict(
    allow_none=True,
    metadata={
        "description": "where it was reported: publisher, url, title, published_at, author,"
        " language, attribution"
    },
)


class OrganizationCreate(Strict):
    id = fields.String(validate=SLUG, metadata={"description": "derived from the name if omitted"})
    name = fields.String(required=True, validate=validate.Length(1, 500))
    kind = fields.String(required=True, validate=validate.OneOf(ORG_KINDS))
    country = fields.String(allow_none=True)
    website = fields.String(allow_none=True)
    aliases = fields.List(fields.String(), allow_none=True)
    source = _SOURCE
    occurred_at = Moment(date_means="start", metadata={"description": "defaults to now"})
    occurred_precision = fields.String(load_default="instant", validate=validate.OneOf(PRECISIONS))


class DealCreate(Strict):
    id = fields.String(validate=SLUG, metadata={"description": "derived from the title if omitted"})
    kind = fields.String(required=True, validate=validate.OneOf(DEAL_KINDS))
    title = fields.String(required=True, validate=validate.Length(1, 2000))
    parties = fields.Dict(
        required=True,
        metadata={
            "description": "investment {investor, investee}; acquisition {acquirer, target};"
            " partnership {members: [org ids]}"
        },
    )
    source = _SOURCE
    occurred_at = Moment(date_means="start", metadata={"description": "defaults to now"})
    occurred_precision = fields.String(load_default="instant", validate=validate.OneOf(PRECISIONS))


class EventAppend(Strict):
    type = fields.String(required=True, validate=validate.OneOf(list(EVENT_TYPES)))
    occurred_at = Moment(
        date_means="start", metadata={"description": "valid time; required except for amendments"}
    )
    occurred_precision = fields.String(load_default="instant", validate=validate.OneOf(PRECISIONS))
    data = fields.Dict(required=True, metadata={"description": "the event type's own fields"})
    source = _SOURCE
    event_id = fields.UUID(metadata={"description": "a retry with the same id is the same event"})
    expected_version = fields.Integer(
        allow_none=True,
        validate=validate.Range(0),
        metadata={"description": "the stream's version the writer saw; stale → 409"},
    )


class BatchEvent(EventAppend):
    stream_id = fields.String(
        required=True,
        validate=validate.Length(1, 100),
        metadata={"description": "org:<id> or deal:<id>"},
    )


class Batch(Strict):
    events = fields.List(
        fields.Nested(BatchEvent), required=True, validate=validate.Length(1, MAX_BATCH)
    )


class Correction(Strict):
    changes = fields.Dict(required=True, metadata={"description": "the data fields it replaces"})
    reason = fields.String(required=True, validate=validate.Length(1, 2000))
    source = _SOURCE
    event_id = fields.UUID()


class Retraction(Strict):
    reason = fields.String(required=True, validate=validate.Length(1, 2000))
    source = _SOURCE
    event_id = fields.UUID()


# --- responses ------------------------------------------------------------------------------


class AppendResult(Strict):
    event_id = fields.String(metadata={"format": "uuid"})
    stream_id = fields.String()
    version = fields.Integer()
    position = fields.Integer()
    recorded_at = fields.String(metadata={"format": "date-time"})


class BatchResult(Strict):
    events = fields.List(fields.Nested(AppendResult))


class Envelope(Strict):
    position = fields.Integer()
    event_id = fields.String(metadata={"format": "uuid"})
    stream_id = fields.String()
    version = fields.Integer()
    type = fields.String()
    schema_version = fields.Integer()
    occurred_at = fields.String(metadata={"format": "date-time"})
    occurred_precision = fields.String()
    recorded_at = fields.String(metadata={"format": "date-time"})
    data = fields.Dict()
    source = fields.Dict(allow_none=True)
    metadata = fields.Dict()


class Basis(Strict):
    position = fields.Integer(metadata={"description": "the log position the answer reflects"})
    as_of = fields.String(allow_none=True, metadata={"format": "date-time"})
    known_at = fields.String(allow_none=True, metadata={"format": "date-time"})


class StateResponse(Strict):
    state = fields.Dict(metadata={"description": "the folded state"})
    basis = fields.Nested(Basis)


class Page(Strict):
    items = fields.List(fields.Dict())
    next_cursor = fields.String(
        allow_none=True,
        metadata={"description": "pass as cursor for the next page; null at the end"},
    )


class EventPage(Strict):
    items = fields.List(fields.Nested(Envelope))
    next_cursor = fields.String(allow_none=True)
    last_position = fields.Integer(
        metadata={"description": "the position to poll after next (the last item's, or `after`)"}
    )


class Problem(Open):
    type = fields.String()
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "{field path: [messages]}"},
    )
    current_version = fields.Integer(metadata={"description": "on a version conflict"})
