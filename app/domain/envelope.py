"""The event envelope as the domain sees it: recorded events and events about to be appended."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

PRECISIONS = ("instant", "day", "month", "year")
ATTRIBUTIONS = ("official", "confirmed", "reported", "anonymous_sources", "rumor", "denied")


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    """An event as the store holds it: immutable, positioned, timestamped."""

    position: int
    event_id: UUID
    stream_id: str
    version: int
    type: str
    schema_version: int
    data: Mapping[str, Any]
    source: Mapping[str, Any] | None
    metadata: Mapping[str, Any]
    occurred_at: datetime
    occurred_precision: str
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event a writer asks the store to append; the store assigns position and times."""

    type: str
    data: Mapping[str, Any]
    occurred_at: datetime | None = None
    occurred_precision: str = "instant"
    source: Mapping[str, Any] | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    event_id: UUID | None = None
    schema_version: int = 1

    def recorded_as(
        self, stream_id: str, *, position: int, version: int, recorded_at: datetime
    ) -> RecordedEvent:
        """Return the event as if recorded: to check or preview it before it is appended."""
        return RecordedEvent(
            position=position,
            event_id=self.event_id or uuid4(),
            stream_id=stream_id,
            version=version,
            type=self.type,
            schema_version=self.schema_version,
            data=self.data,
            source=self.source,
            metadata=self.metadata,
            occurred_at=self.occurred_at or recorded_at,
            occurred_precision=self.occurred_precision,
            recorded_at=recorded_at,
        )


def utc(value: datetime) -> datetime:
    """Return an aware datetime in UTC; naive values are refused."""
    if value.tzinfo is None:
        raise ValueError("datetime must be timezone-aware")
    return value.astimezone(UTC)


def iso(value: datetime | None) -> str | None:
    """Format an aware datetime as RFC 3339 in UTC with a trailing Z."""
    if value is None:
        return None
    return utc(value).isoformat().replace("+00:00", "Z")


def stream_kind(stream_id: str) -> str:
    """Return 'org' or 'deal' for a stream id like 'deal:helix-nova'."""
    return stream_id.split(":", 1)[0]


def stream_key(stream_id: str) -> str:
    """Return the slug part of a stream id."""
    return stream_id.split(":", 1)[1]
