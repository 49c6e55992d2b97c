"""Pages of the global log, encoded straight from the JSON text the database holds.

A page of 500 events spent most of its time decoding each event's data, copying it and
serialising it again through marshmallow; the text PostgreSQL returns is already the JSON
the client gets, so it is passed through (upcast first when stored in an older schema).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from flask import Response

from app.api.common import encode_cursor, next_url
from app.domain.envelope import iso
from app.domain.events import CURRENT_SCHEMA_VERSIONS, upcast


def envelope_json(row: Any) -> str:
    """Return the full envelope of a stored event as JSON (the same fields as envelope())."""
    data, schema_version = row["data"], row["schema_version"]
    if schema_version < CURRENT_SCHEMA_VERSIONS.get(row["type"], schema_version):
        schema_version, upcast_data = upcast(row["type"], schema_version, json.loads(data))
        data = json.dumps(upcast_data, ensure_ascii=False)
    return (
        f'{{"position":{row["position"]},"event_id":"{row["event_id"]}",'
        f'"stream_id":{_text(row["stream_id"])},"version":{row["version"]},'
        f'"type":{_text(row["type"])},"schema_version":{schema_version},'
        f'"occurred_at":"{iso(row["occurred_at"])}",'
        f'"occurred_precision":{_text(row["occurred_precision"])},'
        f'"recorded_at":"{iso(row["recorded_at"])}","data":{data},'
        f'"source":{row["source"] or "null"},"metadata":{row["metadata"] or "{}"}}}'
    )


def log_page(rows: Sequence[Any], limit: int, after: int) -> Response:
    """Answer a page of the log from up to limit + 1 rows: items, next_cursor, last_position."""
    shown = rows[:limit]
    next_cursor = encode_cursor(shown[-1]["position"]) if len(rows) > limit and shown else None
    headers = {"Link": f'<{next_url(next_cursor)}>; rel="next"'} if next_cursor else {}
    last_position = shown[-1]["position"] if shown else after
    body = (
        f'{{"items":[{",".join(envelope_json(row) for row in shown)}],'
        f'"next_cursor":{json.dumps(next_cursor)},"last_position":{last_position}}}'
    )
    return Response(body, 200, headers, mimetype="application/json")


def _text(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)
