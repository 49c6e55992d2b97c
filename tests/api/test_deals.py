"""Deals over HTTP: open, list, state, appends with optimistic concurrency, ETags, history."""

from __future__ import annotations

import uuid

from flask.testing import FlaskClient

from tests.api.helpers import SOURCE, created, investment, new_deal, register_org, report
from tests.conftest import new_id


def test_open_answers_201_with_state(client: FlaskClient, editor: dict[str, str]) -> None:
    investor = register_org(client, editor)
    investee = register_org(client, editor, "Nova Labs")
    deal_id = new_id("deal")
    response = client.post(
        "/api/v1/deals",
        json={
            "id": deal_id,
            "kind": "investment",
            "title": "Helix invests in Nova",
            "parties": {"investor": investor, "investee": investee},
            "source": SOURCE,
        },
        headers=editor,
    )
    body = created(response)
    assert body["state"]["id"] == deal_id
    assert body["state"]["parties"] == {"investor": investor, "investee": investee}
    assert response.headers["Location"] == f"/api/v1/deals/{deal_id}"
    again = client.post(
        "/api/v1/deals",
        json={
            "id": deal_id,
            "kind": "investment",
            "title": "again",
            "parties": {"investor": investor, "investee": investee},
            "source": SOURCE,
        },
        headers=editor,
    )
    assert again.status_code == 409


def test_open_with_an_unregistered_party_is_422_naming_the_field(
    client: FlaskClient, editor: dict[str, str]
) -> None:
    investor = register_org(client, editor)
    response = client.post(
        "/api/v1/deals",
        json={
            "kind": "investment",
            "title": f"Ghost deal {new_id()}",
            "parties": {"investor": investor, "investee": new_id("ghost")},
            "source": SOURCE,
        },
        headers=editor,
    )
    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == ["parties.investee"]


def test_list_filters_by_party_kind_and_status(client: FlaskClient, editor: dict[str, str]) -> None:
    investor, investee, deal_id = new_deal(client, editor)
    report(client, editor, deal_id, status="agreed")
    by_party = created(client.get(f"/api/v1/deals?party={investee}", headers=editor), 200)
    assert [d["id"] for d in by_party["items"]] == [deal_id]
    assert by_party["items"][0]["status"] == "agreed"
    filtered = created(
        client.get(f"/api/v1/deals?party={investor}&kind=investment&status=agreed", headers=editor),
        200,
    )
    assert [d["id"] for d in filtered["items"]] == [deal_id]
    none = created(
        client.get(f"/api/v1/deals?party={investor}&status=completed", headers=editor), 200
    )
    assert none["items"] == [] and none["next_cursor"] is None
    assert client.get("/api/v1/deals?kind=merger", headers=editor).status_code == 422
    assert client.get("/api/v1/deals?limit=501", headers=editor).status_code == 422
    assert client.get("/api/v1/deals?cursor=garbage", headers=editor).status_code == 422


def test_append_answers_201_with_position_and_location(
    client: FlaskClient, editor: dict[str, str]
) -> None:
    _, _, deal_id = new_deal(client, editor)
    response = client.post(f"/api/v1/deals/{deal_id}/events", json=investment(), headers=editor)
    body = created(response)
    assert set(body) == {"event_id", "stream_id", "version", "position", "recorded_at"}
    assert body["stream_id"] == f"deal:{deal_id}" and body["version"] == 2
    assert response.headers["Location"] == f"/api/v1/events/{body['event_id']}"
    event = created(client.get(response.headers["Location"], headers=editor), 200)
    assert event["position"] == body["position"]
    assert event["data"]["amount"] == {"amount": "1000000", "currency": "USD"}


def test_amount_text_is_parsed_by_the_domain(client: FlaskClient, editor: dict[str, str]) -> None:
    _, _, deal_id = new_deal(client, editor)
    body = investment(amount=None)
    body["data"].update(amount_text="80억달러", amount_basis="tranche")
    appended = created(client.post(f"/api/v1/deals/{deal_id}/events", json=body, headers=editor))
    event = created(client.get(f"/api/v1/events/{appended['event_id']}", headers=editor), 200)
    assert event["data"]["amount"] == {"amount": "8000000000", "currency": "USD"}


def test_stale_expected_version_in_the_body_is_409_with_current_version(
    client: FlaskClient, editor: dict[str, str]
) -> None:
    _, _, deal_id = new_deal(client, editor)
    report(client, editor, deal_id)
    stale = {**investment(), "expected_version": 1}
    response = client.post(f"/api/v1/deals/{deal_id}/events", json=stale, headers=editor)
    assert response.status_code == 409
    assert response.content_type == "application/problem+json"
    assert response.get_json()["current_version"] == 2
    fresh = {**investment(), "expected_version": 2}
    assert (
        client.post(f"/api/v1/deals/{deal_id}/events", json=fresh, headers=editor).status_code
        == 201
    )


def test_stale_if_match_is_412_and_writes_nothing(
    client: FlaskClient, editor: dict[str, str]
) -> None:
    _, _, deal_id = new_deal(client, editor)
    first = client.post(
        f"/api/v1/deals/{deal_id}/events", json=investment(), headers={**editor, "If-Match": '"1"'}
    )
    assert first.status_code == 201 and first.headers["ETag"] == '"2"'
    stale = client.post(
        f"/api/v1/deals/{deal_id}/events", json=investment(), headers={**editor, "If-Match": '"1"'}
    )
    assert stale.status_code == 412
    assert stale.content_type == "application/problem+json"
    assert stale.get_json()["current_version"] == 2
    state = created(client.get(f"/api/v1/deals/{deal_id}", headers=editor), 200)
    assert state["state"]["version"] == 2
    current = client.post(
        f"/api/v1/deals/{deal_id}/events",
        json=investment(),
        headers={**editor, "If-Match": state_etag(client, editor, deal_id)},
    )
    assert current.status_code == 201


def state_etag(client: FlaskClient, editor: dict[str, str], deal_id: str) -> str:
    return client.get(f"/api/v1/deals/{deal_id}", headers=editor).headers["ETag"]


def test_state_etag_gives_304_until_the_deal_changes(
    client: FlaskClient, editor: dict[str, str]
) -> None:
    _, _, deal_id = new_deal(client, editor)
    first = client.get(f"/api/v1/deals/{deal_id}", headers=editor)
    etag = first.headers["ETag"]
    assert etag.startswith('"1-')
    cached = client.get(f"/api/v1/deals/{deal_id}", headers={**editor, "If-None-Match": etag})
    assert cached.status_code == 304 and cached.data == b"" and cached.headers["ETag"] == etag
    as_of = client.get(f"/api/v1/deals/{deal_id}?as_of=2030-01-01", headers=editor)
    assert as_of.headers["ETag"] != etag
    report(client, editor, deal_id)
    changed = client.get(f"/api/v1/deals/{deal_id}", headers={**editor, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"].startswith('"2-')


def test_event_id_retry_is_the_same_event(client: FlaskClient, editor: dict[str, str]) -> None:
    _, _, deal_id = new_deal(client, editor)
    body = {**investment(), "event_id": str(uuid.uuid4())}
    first = client.post(f"/api/v1/deals/{deal_id}/events", json=body, headers=editor)
    again = client.post(f"/api/v1/deals/{deal_id}/events", json=body, headers=editor)
    assert first.status_code == 201 and again.status_code == 200
    assert first.get_json() == again.get_json()
    changed = {**body, "data": {**body["data"], "status": "agreed"}}
    assert (
        client.post(f"/api/v1/deals/{deal_id}/events", json=changed, headers=editor).status_code
        == 409
    )


def test_history_marks_corrected_and_retracted_events(
    client: FlaskClient, editor: dict[str, str]
) -> None:
    _, _, deal_id = new_deal(client, editor)
    first = report(client, editor, deal_id, amount="100")
    second = report(client, editor, deal_id, amount="200")
    created(
        client.post(
            f"/api/v1/events/{first['event_id']}/corrections",
            json={"changes": {"amount": {"amount": "150", "currency": "USD"}}, "reason": "typo"},
            headers=editor,
        )
    )
    created(
        client.post(
            f"/api/v1/events/{second['event_id']}/retractions",
            json={"reason": "the outlet withdrew it", "source": SOURCE},
            headers=editor,
        )
    )
    history = created(client.get(f"/api/v1/deals/{deal_id}/events", headers=editor), 200)["items"]
    effects = {item["event_id"]: item["effect"] for item in history}
    assert effects[first["event_id"]] == "corrected"
    assert effects[second["event_id"]] == "retracted"
    assert [item["type"] for item in history][-2:] == ["event.corrected", "event.retracted"]
    state = created(client.get(f"/api/v1/deals/{deal_id}", headers=editor), 200)["state"]
    assert state["total_invested"] == [{"amount": "150", "currency": "USD"}]
