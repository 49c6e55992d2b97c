"""Events over HTTP: one event, amendments, batches, the global log with long-polling, the SSE feed."""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.api.helpers import SOURCE, created, investment, new_deal, register_org, report
from tests.conftest import new_id


def test_unknown_or_malformed_event_id_is_404(client: FlaskClient, editor: dict[str, str]) -> None:
    for url in (f"/api/v1/events/{uuid.uuid4()}", "/api/v1/events/not-a-uuid"):
        response = client.get(url, headers=editor)
        assert response.status_code == 404 and response.content_type == "application/problem+json"
    missing = client.post(
        f"/api/v1/events/{uuid.uuid4()}/retractions", json={"reason": "x"}, headers=editor
    )
    assert missing.status_code == 404


def test_event_carries_request_id_actor_client_and_idempotency_key(
    client: FlaskClient, editor: dict[str, str]
) -> None:
    _, _, deal_id = new_deal(client, editor)
    response = client.post(
        f"/api/v1/deals/{deal_id}/events",
        json=investment(),
        headers={
            **editor,
            "X-Request-ID": "req-123",
            "Idempotency-Key": new_id("key"),
            "User-Agent": "newsroom-tool/1.0",
        },
    )
    assert response.headers["X-Request-ID"] == "req-123"
    event = created(client.get(response.headers["Location"], headers=editor), 200)
    metadata = event["metadata"]
    assert metadata["request_id"] == "req-123"
    assert metadata["actor"] == "test-editor"
    assert metadata["client"] == "newsroom-tool/1.0"
    assert metadata["idempotency_key"].startswith("key-")
    generated = client.get("/healthz").headers["X-Request-ID"]
    assert len(generated) >= 16


def test_correction_of_a_correction_is_422(client: FlaskClient, editor: dict[str, str]) -> None:
    _, _, deal_id = new_deal(client, editor)
    first = report(client, editor, deal_id)
    correction = created(
        client.post(
            f"/api/v1/events/{first['event_id']}/corrections",
            json={"changes": {"status": "agreed"}, "reason": "misread"},
            headers=editor,
        )
    )
    assert correction["stream_id"] == f"deal:{deal_id}"
    again = client.post(
        f"/api/v1/events/{correction['event_id']}/corrections",
        json={"changes": {"status": "agreed"}, "reason": "x"},
        headers=editor,
    )
    assert again.status_code == 422
    assert "data.target_event_id" in again.get_json()["errors"]


def batch_item(stream_id: str, **overrides: Any) -> dict[str, Any]:
    return {"stream_id": stream_id, **investment(), **overrides}


def test_batch_appends_all_events_atomically(client: FlaskClient, editor: dict[str, str]) -> None:
    investor = register_org(client, editor)
    investee = register_org(client, editor, "Nova")
    deal_id = new_id("deal")
    opened = {
        "stream_id": f"deal:{deal_id}",
        "type": "deal.opened",
        "occurred_at": "2024-01-01T00:00:00Z",
        "data": {
            "kind": "investment",
            "title": "batch",
            "parties": {"investor": investor, "investee": investee},
        },
        "source": SOURCE,
    }
    body = created(
        client.post(
            "/api/v1/batches",
            json={"events": [opened, batch_item(f"deal:{deal_id}")]},
            headers=editor,
        )
    )
    assert [e["version"] for e in body["events"]] == [1, 2]
    assert body["events"][1]["position"] == body["events"][0]["position"] + 1


def test_batch_with_one_bad_event_writes_nothing_and_names_it(
    client: FlaskClient, editor: dict[str, str]
) -> None:
    _, _, deal_id = new_deal(client, editor)
    stream = f"deal:{deal_id}"
    bad = batch_item(stream)
    bad["data"]["amount"] = {"amount": "lots", "currency": "USD"}
    events = [batch_item(stream), batch_item(stream), batch_item(stream), bad]
    response = client.post("/api/v1/batches", json={"events": events}, headers=editor)
    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == ["events.3.data.amount.amount"]
    state = created(client.get(f"/api/v1/deals/{deal_id}", headers=editor), 200)
    assert state["state"]["version"] == 1
    single = client.post("/api/v1/batches", json={"events": [bad]}, headers=editor)
    assert list(single.get_json()["errors"]) == ["events.0.data.amount.amount"]
    shape = client.post(
        "/api/v1/batches",
        json={"events": [batch_item(stream), {**batch_item(stream), "occurred_at": "soon"}]},
        headers=editor,
    )
    assert shape.status_code == 422
    assert list(shape.get_json()["errors"]) == ["events.1.occurred_at"]


def test_batch_is_limited_to_1000_events(client: FlaskClient, editor: dict[str, str]) -> None:
    item = {"stream_id": "deal:x", "type": "investment.reported", "data": {}}
    response = client.post("/api/v1/batches", json={"events": [item] * 1001}, headers=editor)
    assert response.status_code == 422
    assert "events" in response.get_json()["errors"]


def test_global_log_pages_in_position_order_with_filters(
    client: FlaskClient, editor: dict[str, str]
) -> None:
    _, _, deal_id = new_deal(client, editor)
    for amount in ("1", "2", "3"):
        report(client, editor, deal_id, amount=amount)
    stream = f"deal:{deal_id}"
    first = client.get(f"/api/v1/events?stream={stream}&limit=2", headers=editor)
    page1 = created(first, 200)
    assert [e["version"] for e in page1["items"]] == [1, 2]
    assert 'rel="next"' in first.headers["Link"]
    page2 = created(
        client.get(
            f"/api/v1/events?stream={stream}&limit=2&cursor={page1['next_cursor']}", headers=editor
        ),
        200,
    )
    assert [e["version"] for e in page2["items"]] == [3, 4]
    assert page2["next_cursor"] is None
    assert page2["last_position"] == page2["items"][-1]["position"]
    positions = [e["position"] for e in page1["items"] + page2["items"]]
    assert positions == sorted(positions)
    typed = created(
        client.get(f"/api/v1/events?stream={stream}&type=deal.opened", headers=editor), 200
    )
    assert [e["type"] for e in typed["items"]] == ["deal.opened"]
    after = created(
        client.get(f"/api/v1/events?stream={stream}&after={positions[1]}", headers=editor), 200
    )
    assert [e["position"] for e in after["items"]] == positions[2:]


def test_long_poll_returns_when_another_request_appends(
    app: Flask, client: FlaskClient, editor: dict[str, str]
) -> None:
    _, _, deal_id = new_deal(client, editor)
    head = app.extensions["dealtracker"].store.head_position()

    def append_later() -> None:
        time.sleep(0.5)
        app.test_client().post(f"/api/v1/deals/{deal_id}/events", json=investment(), headers=editor)

    writer = threading.Thread(target=append_later)
    started = time.monotonic()
    writer.start()
    body = created(
        client.get(f"/api/v1/events?after={head}&stream=deal:{deal_id}&wait=10", headers=editor),
        200,
    )
    elapsed = time.monotonic() - started
    writer.join()
    assert [e["type"] for e in body["items"]] == ["investment.reported"]
    assert 0.4 < elapsed < 5
    quiet_started = time.monotonic()
    empty = created(
        client.get(f"/api/v1/events?after={head + 10**9}&wait=0.3", headers=editor), 200
    )
    assert empty["items"] == [] and empty["last_position"] == head + 10**9
    assert time.monotonic() - quiet_started >= 0.3
    assert client.get("/api/v1/events?wait=31", headers=editor).status_code == 422


def sse_frames(data: bytes) -> list[dict[str, str]]:
    frames = []
    for block in data.decode().split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.splitlines():
            if line and not line.startswith(":"):
                name, _, value = line.partition(": ")
                fields[name] = value
        if "id" in fields:
            frames.append(fields)
    return frames


def test_sse_feed_sends_events_and_resumes_after_last_event_id(
    client: FlaskClient, editor: dict[str, str]
) -> None:
    _, _, deal_id = new_deal(client, editor)
    report(client, editor, deal_id)
    report(client, editor, deal_id)
    url = f"/api/v1/events/stream?stream=deal:{deal_id}&max_seconds=0.3"
    response = client.get(url, headers=editor)
    assert response.status_code == 200 and response.mimetype == "text/event-stream"
    frames = sse_frames(response.data)
    assert [f["event"] for f in frames] == [
        "deal.opened",
        "investment.reported",
        "investment.reported",
    ]
    envelope = json.loads(frames[1]["data"])
    assert envelope["position"] == int(frames[1]["id"]) and envelope["version"] == 2
    resumed = client.get(url, headers={**editor, "Last-Event-ID": frames[1]["id"]})
    assert [f["id"] for f in sse_frames(resumed.data)] == [frames[2]["id"]]
    by_param = client.get(f"{url}&after={frames[0]['id']}&limit=1", headers=editor)
    assert [f["id"] for f in sse_frames(by_param.data)] == [frames[1]["id"]]


def test_sse_feed_sends_keep_alives_while_idle(
    app: Flask, client: FlaskClient, editor: dict[str, str]
) -> None:
    app.config["SSE_KEEPALIVE_SECONDS"] = 0.1
    try:
        response = client.get(
            "/api/v1/events/stream?after=999999999&max_seconds=0.5", headers=editor
        )
    finally:
        app.config.pop("SSE_KEEPALIVE_SECONDS")
    assert b": keep-alive" in response.data
    assert response.data.startswith(b"retry: ")
