"""Organizations over HTTP: register, search, state as of / as known at, events, history."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.api.helpers import created, register_org
from tests.conftest import new_id


def test_register_answers_201_with_state_location_and_etag(
    client: FlaskClient, editor: dict[str, str]
) -> None:
    org_id = new_id("org")
    response = client.post(
        "/api/v1/organizations",
        json={"id": org_id, "name": "Helix Cloud", "kind": "company", "aliases": ["HX"]},
        headers=editor,
    )
    body = created(response)
    assert body["state"]["id"] == org_id
    assert body["state"]["name"] == "Helix Cloud"
    assert body["basis"]["position"] > 0
    assert response.headers["Location"] == f"/api/v1/organizations/{org_id}"
    assert response.headers["ETag"].startswith('"1-')


def test_register_derives_the_id_from_the_name(client: FlaskClient, editor: dict[str, str]) -> None:
    name = f"Orbit Labs {new_id()}"
    body = created(
        client.post("/api/v1/organizations", json={"name": name, "kind": "company"}, headers=editor)
    )
    assert body["state"]["id"] == f"orbit-labs-{name.rsplit(' ', 1)[1]}"


def test_register_an_existing_id_is_409(client: FlaskClient, editor: dict[str, str]) -> None:
    org_id = register_org(client, editor)
    response = client.post(
        "/api/v1/organizations",
        json={"id": org_id, "name": "Other", "kind": "company"},
        headers=editor,
    )
    assert response.status_code == 409
    assert response.content_type == "application/problem+json"


def test_register_names_invalid_fields_as_the_body_does(
    client: FlaskClient, editor: dict[str, str]
) -> None:
    response = client.post(
        "/api/v1/organizations",
        json={"id": "Not A Slug", "name": "X", "kind": "bank", "website": "nope"},
        headers=editor,
    )
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) >= {"id", "kind"}
    response = client.post(
        "/api/v1/organizations",
        json={"name": "X", "kind": "company", "website": "not a url"},
        headers=editor,
    )
    assert response.status_code == 422
    assert "website" in response.get_json()["errors"]


def test_search_finds_by_name_and_alias_nfkc_case_insensitive(
    client: FlaskClient, editor: dict[str, str]
) -> None:
    marker = new_id("m")
    org_id = register_org(client, editor, f"Quasar {marker}", aliases=[f"퀘이사 {marker}"])
    for query in (f"QUASAR {marker.upper()}", f"퀘이사 {marker}", f"ｑｕａｓａｒ {marker}"):
        body = created(
            client.get("/api/v1/organizations", query_string={"q": query}, headers=editor), 200
        )
        assert [item["id"] for item in body["items"]] == [org_id], query
        assert body["next_cursor"] is None


def test_search_pages_with_cursor_and_link(client: FlaskClient, editor: dict[str, str]) -> None:
    marker = new_id("p")
    ids = sorted(register_org(client, editor, f"Paged {marker} {i}") for i in range(3))
    seen: list[str] = []
    url = f"/api/v1/organizations?q=paged+{marker}&limit=2"
    first = client.get(url, headers=editor)
    body = created(first, 200)
    seen += [item["id"] for item in body["items"]]
    assert body["next_cursor"] and 'rel="next"' in first.headers["Link"]
    link = first.headers["Link"].split(">")[0].lstrip("<")
    second = created(client.get(link, headers=editor), 200)
    seen += [item["id"] for item in second["items"]]
    assert seen == ids
    assert second["next_cursor"] is None
    assert "Link" not in client.get(link, headers=editor).headers


def test_state_reads_honour_as_of_and_known_at(client: FlaskClient, editor: dict[str, str]) -> None:
    org_id = register_org(client, editor, "Old Name", occurred_at="2020-01-01")
    created(
        client.post(
            f"/api/v1/organizations/{org_id}/events",
            json={
                "type": "organization.renamed",
                "occurred_at": "2023-06-01T00:00:00Z",
                "data": {"name": "New Name"},
            },
            headers=editor,
        )
    )
    now = created(client.get(f"/api/v1/organizations/{org_id}", headers=editor), 200)
    assert now["state"]["name"] == "New Name"
    before = created(
        client.get(f"/api/v1/organizations/{org_id}?as_of=2022-12-31", headers=editor), 200
    )
    assert before["state"]["name"] == "Old Name"
    assert before["basis"]["as_of"] == "2022-12-31T23:59:59.999999Z"
    known = created(
        client.get(f"/api/v1/organizations/{org_id}?known_at=2999-01-01", headers=editor), 200
    )
    assert known["state"]["name"] == "New Name"
    assert (
        client.get(
            f"/api/v1/organizations/{org_id}?known_at=2000-01-01", headers=editor
        ).status_code
        == 404
    )
    bad = client.get(f"/api/v1/organizations/{org_id}?as_of=yesterday", headers=editor)
    assert bad.status_code == 422 and "as_of" in bad.get_json()["errors"]


def test_unknown_organization_is_404(client: FlaskClient, editor: dict[str, str]) -> None:
    for url in (f"/api/v1/organizations/{new_id()}", f"/api/v1/organizations/{new_id()}/events"):
        response = client.get(url, headers=editor)
        assert response.status_code == 404 and response.content_type == "application/problem+json"
    response = client.post(
        f"/api/v1/organizations/{new_id()}/events",
        json={
            "type": "organization.renamed",
            "occurred_at": "2024-01-01T00:00:00Z",
            "data": {"name": "X"},
        },
        headers=editor,
    )
    assert response.status_code == 404


def test_history_lists_events_with_effect_and_provenance(
    client: FlaskClient, editor: dict[str, str]
) -> None:
    org_id = register_org(client, editor)
    appended = created(
        client.post(
            f"/api/v1/organizations/{org_id}/events",
            json={
                "type": "organization.alias_added",
                "occurred_at": "2024-01-01T00:00:00Z",
                "data": {"alias": "HX"},
            },
            headers={**editor, "X-Request-ID": "req-history-1"},
        )
    )
    body = created(client.get(f"/api/v1/organizations/{org_id}/events", headers=editor), 200)
    assert [item["type"] for item in body["items"]] == [
        "organization.registered",
        "organization.alias_added",
    ]
    last = body["items"][-1]
    assert last["event_id"] == appended["event_id"]
    assert last["effect"] == "applied"
    assert last["metadata"]["request_id"] == "req-history-1"
    assert last["metadata"]["actor"] == "test-editor"
    paged = created(
        client.get(f"/api/v1/organizations/{org_id}/events?limit=1", headers=editor), 200
    )
    assert len(paged["items"]) == 1 and paged["next_cursor"]
