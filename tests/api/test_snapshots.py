"""Snapshot endpoints: list, take (admin), read the state one holds, diff two."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from tests.api.conftest import bearer
from tests.api.helpers import created, new_deal, report


def take_snapshot(client: FlaskClient, admin: dict[str, str]) -> dict[str, Any]:
    response = client.post("/api/v1/snapshots", headers=admin)
    body = created(response, 201)
    assert response.headers["Location"] == f"/api/v1/snapshots/{body['id']}"
    return body


def test_only_an_admin_takes_a_snapshot_and_readers_list_and_read_them(
    client: FlaskClient, reader: dict[str, str], editor: dict[str, str], admin_token: str
) -> None:
    admin = bearer(admin_token)
    assert client.post("/api/v1/snapshots", headers=editor).status_code == 403
    assert client.get("/api/v1/snapshots").status_code == 401

    basis = take_snapshot(client, admin)

    assert basis["schedule"] is None and basis["slot"] is None and basis["late"] is False
    assert basis["size"] > 0 and basis["fold_schema_version"] >= 1
    listed = created(client.get("/api/v1/snapshots?limit=500", headers=reader), 200)
    assert basis in listed["items"]
    response = client.get(f"/api/v1/snapshots/{basis['id']}", headers=reader)
    body = created(response, 200)
    assert body["basis"] == basis
    assert set(body["state"]) == {"position", "organizations", "deals"}
    assert body["state"]["position"] == basis["position"]
    again = client.get(
        f"/api/v1/snapshots/{basis['id']}",
        headers={**reader, "If-None-Match": response.headers["ETag"]},
    )
    assert again.status_code == 304


def test_snapshot_lists_page_with_a_cursor(
    client: FlaskClient, reader: dict[str, str], admin_token: str
) -> None:
    admin = bearer(admin_token)
    first, second = take_snapshot(client, admin), take_snapshot(client, admin)
    page = created(client.get("/api/v1/snapshots?limit=1", headers=reader), 200)
    assert [item["id"] for item in page["items"]] == [second["id"]]
    following = client.get(
        f"/api/v1/snapshots?limit=1&cursor={page['next_cursor']}", headers=reader
    )
    assert [item["id"] for item in created(following, 200)["items"]] == [first["id"]]
    assert client.get("/api/v1/snapshots?cursor=nonsense", headers=reader).status_code == 422


def test_a_diff_lists_what_changed_field_by_field(
    client: FlaskClient, editor: dict[str, str], reader: dict[str, str], admin_token: str
) -> None:
    admin = bearer(admin_token)
    _, _, deal = new_deal(client, editor)
    report(client, editor, deal, amount="1000000")
    before = take_snapshot(client, admin)
    report(client, editor, deal, amount="2000000", occurred_at="2024-05-01T00:00:00Z")
    _, _, added = new_deal(client, editor)
    after = take_snapshot(client, admin)

    response = client.get(
        f"/api/v1/snapshots/{after['id']}/diff?from={before['id']}", headers=reader
    )

    diff = created(response, 200)
    assert diff["from"]["id"] == before["id"] and diff["to"]["id"] == after["id"]
    assert added in diff["deals"]["added"] and diff["deals"]["removed"] == []
    [changed] = [item for item in diff["deals"]["changed"] if item["id"] == deal]
    changes = {change["path"]: (change["old"], change["new"]) for change in changed["changes"]}
    assert changes["total_invested.0.amount"] == ("1000000", "3000000")


def test_unknown_snapshots_and_a_missing_from_are_problems(
    client: FlaskClient, reader: dict[str, str]
) -> None:
    missing = client.get("/api/v1/snapshots/987654321", headers=reader)
    assert missing.status_code == 404
    assert missing.mimetype == "application/problem+json"
    assert client.get("/api/v1/snapshots/1/diff", headers=reader).status_code == 422
    assert client.get("/api/v1/snapshots/987654321/diff?from=1", headers=reader).status_code == 404
