"""A write that fails in the database leaves nothing behind: not in the log, not in any cache."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from app import service
from app.domain.envelope import NewEvent
from app.service import DealTracker
from app.store.eventstore import EventStore
from tests.conftest import new_id


def renamed(name: str) -> NewEvent:
    return NewEvent(
        type="organization.renamed",
        data={"name": name},
        occurred_at=datetime(2024, 3, 1, tzinfo=UTC),
    )


def test_events_of_a_failed_write_are_not_remembered_as_written(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    tracker = DealTracker(EventStore(engine))
    stream = f"org:{new_id()}"
    tracker.append(stream, NewEvent("organization.registered", {"name": "한빛", "kind": "company"}))
    tracker.append(stream, renamed("Hanbit"))  # the stream is now cached in this process

    real_insert = service.insert_events
    # The INSERT fails in the database after the write was planned and its events folded.
    monkeypatch.setattr(
        service, "insert_events", lambda rows: ("SELECT 1 / 0", [()]) if rows else real_insert(rows)
    )
    with pytest.raises(DBAPIError):
        tracker.append(stream, renamed("never written"))
    monkeypatch.setattr(service, "insert_events", real_insert)

    result = tracker.append(stream, renamed("Hanbit Cloud"))
    assert [e.version for e in result.events] == [3]
    assert [e.data["name"] for e in tracker.store.read_stream(stream)] == [
        "한빛",
        "Hanbit",
        "Hanbit Cloud",
    ]
