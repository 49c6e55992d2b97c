"""Old rows are decoded through the upcaster registry on every read path."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import Engine, text

from app.domain.events import register_upcaster
from app.store.eventstore import EventStore
from tests.conftest import new_id

LEGACY_TYPE = f"test.legacy_{uuid.uuid4().hex[:6]}"


@register_upcaster(LEGACY_TYPE, 1)
def _split_full_name(data: dict[str, Any]) -> dict[str, Any]:
    first, _, last = data.pop("full_name").partition(" ")
    return {**data, "first": first, "last": last}


def test_upcaster_v1_to_v2_is_applied_to_old_rows_on_every_read(
    engine: Engine, store: EventStore
) -> None:
    stream = f"org:{new_id()}"
    event_id = uuid.uuid4()
    with engine.begin() as conn:
        store.lock(conn)
        conn.execute(
            text(
                "INSERT INTO events (position, event_id, stream_id, version, type, schema_version, data,"
                " metadata, occurred_at, occurred_precision, recorded_at)"
                " VALUES (:p, :id, :s, 1, :t, 1, CAST(:d AS jsonb), '{}', now(), 'instant', now())"
            ),
            {
                "p": store.head_position(conn=conn) + 1,
                "id": event_id,
                "s": stream,
                "t": LEGACY_TYPE,
                "d": json.dumps({"full_name": "Ada Lovelace"}),
            },
        )
    for event in (
        store.get(event_id),
        store.read_stream(stream)[0],
        store.read_all(after=0, limit=100_000, stream_id=stream)[0],
        next(e for e in store.iter_all() if e.event_id == event_id),
    ):
        assert event is not None
        assert event.schema_version == 2
        assert dict(event.data) == {"first": "Ada", "last": "Lovelace"}
    with engine.connect() as conn:
        raw = conn.execute(
            text("SELECT data, schema_version FROM events WHERE event_id = :id"), {"id": event_id}
        ).one()
    assert raw.data == {"full_name": "Ada Lovelace"} and raw.schema_version == 1
