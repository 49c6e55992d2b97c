"""The worked example of the domain spec, end to end over HTTP, with the recorded dates injected."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask.testing import FlaskClient

from app.store.tokens import create_token
from tests.api.conftest import bearer, make_app
from tests.api.helpers import created

OFFICIAL = {"publisher": "Helix Cloud newsroom", "attribution": "official"}
ANONYMOUS = {"publisher": "The Daily Ledger", "attribution": "anonymous_sources"}
USD = {
    "1.25": "1250000000",
    "2.5": "2500000000",
    "2.75": "2750000000",
    "3.75": "3750000000",
    "4": "4000000000",
    "7.75": "7750000000",
    "8": "8000000000",
}


class Clock:
    """The store's clock, set to each event's recorded date at 09:00Z."""

    def __init__(self) -> None:
        self.now = datetime(2024, 1, 2, 9, tzinfo=UTC)

    def at(self, day: str) -> None:
        self.now = datetime.fromisoformat(f"{day}T09:00:00+00:00")

    def __call__(self) -> datetime:
        return self.now


def usd(billions: str) -> list[dict[str, str]]:
    return [{"amount": USD[billions], "currency": "USD"}]


def report(occurred: str, status: str, amount: str | None = None, **data: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {"status": status, **data}
    if amount is not None:
        fields.update(
            amount_text=f"{amount}B USD", amount_basis=data.get("amount_basis", "tranche")
        )
    return {
        "type": "investment.reported",
        "occurred_at": occurred,
        "occurred_precision": "day",
        "data": fields,
        "source": ANONYMOUS if status == "considering" else OFFICIAL,
    }


def total(client: FlaskClient, headers: dict[str, str], query: str = "") -> list[dict[str, str]]:
    body = created(client.get(f"/api/v1/deals/helix-nova{query}", headers=headers), 200)
    found: list[dict[str, str]] = body["state"]["total_invested"]
    return found


def test_worked_example_over_http(fresh_database_url: str) -> None:
    clock = Clock()
    app = make_app(fresh_database_url, clock=clock)
    editor = bearer(create_token(app.extensions["dealtracker"].engine, role="editor", name="desk"))
    client = app.test_client()
    post = lambda url, body: created(client.post(url, json=body, headers=editor))  # noqa: E731

    post(
        "/api/v1/organizations",
        {"name": "Helix Cloud", "kind": "company", "occurred_at": "2015-01-01"},
    )
    post(
        "/api/v1/organizations",
        {
            "name": "Nova Labs",
            "kind": "company",
            "aliases": ["노바랩스", "Nova"],
            "occurred_at": "2021-01-01",
        },
    )
    post(
        "/api/v1/deals",
        {
            "id": "helix-nova",
            "kind": "investment",
            "title": "Helix Cloud invests in Nova Labs",
            "parties": {"investor": "helix-cloud", "investee": "nova-labs"},
            "source": OFFICIAL,
            "occurred_at": "2023-09-25",
            "occurred_precision": "day",
        },
    )
    events = "/api/v1/deals/helix-nova/events"
    ids: dict[str, str] = {}
    for name, recorded, body in (
        (
            "e1",
            "2024-01-05",
            report("2023-09-25", "completed", "1.25", instrument="convertible_note"),
        ),
        (
            "e2",
            "2024-04-01",
            report("2024-03-27", "completed", "2.75", instrument="convertible_note"),
        ),
        ("e3", "2024-11-25", report("2024-11-22", "completed", "4", instrument="equity")),
        ("e4", "2025-01-11", report("2025-01-10", "considering")),
    ):
        clock.at(recorded)
        ids[name] = post(events, body)["event_id"]
    clock.at("2025-01-20")
    correction = {"changes": {"amount_text": "2.5B USD"}, "reason": "the filing says 2.5B"}
    ids["e5"] = post(f"/api/v1/events/{ids['e2']}/corrections", correction)["event_id"]
    clock.at("2025-01-21")
    late_total = report("2024-06-01", "completed", "4", amount_basis="cumulative")
    ids["e6"] = post(events, late_total)["event_id"]

    now = created(client.get("/api/v1/deals/helix-nova", headers=editor), 200)["state"]
    assert now["status"] == "considering"
    assert now["total_invested"] == usd("8")
    assert [p["event_id"] for p in now["pending"]] == [ids["e4"]]
    assert total(client, editor, "?known_at=2025-01-15") == usd("8")
    assert total(client, editor, "?known_at=2025-01-20T12:00:00Z") == usd("7.75")
    end_of_2024 = created(
        client.get("/api/v1/deals/helix-nova?as_of=2024-12-31", headers=editor), 200
    )
    assert end_of_2024["state"]["status"] == "completed"
    assert end_of_2024["state"]["total_invested"] == usd("8")
    april = created(client.get("/api/v1/deals/helix-nova?as_of=2024-04-30", headers=editor), 200)
    assert april["state"]["total_invested"] == usd("3.75")
    assert april["state"]["instruments"] == ["convertible_note"]
    investors = created(client.get("/api/v1/organizations/nova-labs", headers=editor), 200)
    assert investors["state"]["investors"][0]["total_invested"] == usd("8")

    clock.at("2025-02-01")
    post(
        f"/api/v1/events/{ids['e3']}/retractions", {"reason": "never confirmed", "source": OFFICIAL}
    )
    assert total(client, editor) == usd("4")
    assert total(client, editor, "?known_at=2025-01-25") == usd("8")
    history = created(client.get(events, headers=editor), 200)["items"]
    assert {h["event_id"]: h["effect"] for h in history}[ids["e3"]] == "retracted"

    for query in ("노바랩스", "nova labs", "NOVA"):
        found = created(
            client.get("/api/v1/organizations", query_string={"q": query}, headers=editor), 200
        )
        assert "nova-labs" in [o["id"] for o in found["items"]], query
    app.extensions["dealtracker"].engine.dispose()
