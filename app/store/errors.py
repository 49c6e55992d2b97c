"""Errors the store raises, named for what went wrong rather than for the database error behind it."""

from __future__ import annotations

from uuid import UUID


class StoreError(Exception):
    """Base class of event store errors."""


class WrongExpectedVersion(StoreError):
    """The stream moved on since the writer read it: nothing was written."""

    def __init__(self, stream_id: str, expected: int, current: int) -> None:
        super().__init__(f"stream {stream_id} is at version {current}, not {expected}")
        self.stream_id = stream_id
        self.expected = expected
        self.current = current


class StreamNotCreated(StoreError):
    """The first event of a stream is not the event that creates it, or a stream is created twice."""


class DuplicateEventId(StoreError):
    """An event id that is already in the log was sent again with other content."""

    def __init__(self, event_id: UUID, detail: str) -> None:
        super().__init__(f"event {event_id} already exists with other content: {detail}")
        self.event_id = event_id


class RecordedAtWentBackwards(StoreError):
    """A supplied recorded_at is earlier than the newest one in the log."""


class StoreBusy(StoreError):
    """The append lock could not be taken in time; the caller may retry."""


class StoreUnavailable(StoreError):
    """The database cannot be reached."""
