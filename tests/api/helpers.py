"""Builders for API tests: register organizations, open deals, report events, over HTTP."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.conftest import new_id

SOURCE = {"publisher": "Example Wire", "url": "https://example.com/a", "attribution": "official"}


def created(response: TestResponse, status: int = 201) -> dict[str, Any]:
    """Assert the status and return the JSON body."""
    assert response.status_code == status, response.get_data(as_text=True)
    body: dict[str, Any] = response.get_json()
    return body


def register_org(
    client: FlaskClient, headers: dict[str, str], name: str = "Helix Cloud", **extra: Any
) -> str:
    """Register an organization with a random id and return the id."""
    org_id = extra.pop("id", None) or new_id("org")
    body = {"id": org_id, "name": name, "kind": "company", **extra}
    created(client.post("/api/v1/organizations", json=body, headers=headers))
    return org_id


def open_deal(
    client: FlaskClient,
    headers: dict[str, str],
    investor: str,
    investee: str,
    deal_id: str | None = None,
    **extra: Any,
) -> str:
    """Open an investment deal between two organizations and return its id."""
    deal_id = deal_id or new_id("deal")
    body = {
        "id": deal_id,
        "kind": "investment",
        "title": f"{investor} invests in {investee}",
        "parties": {"investor": investor, "investee": investee},
        "source": SOURCE,
        **extra,
    }
    created(client.post("/api/v1/deals", json=body, headers=headers))
    return deal_id


def investment(
    status: str = "completed",
    amount: str | None = "1000000",
    basis: str = "tranche",
    occurred_at: str = "2024-03-27T00:00:00Z",
    **data: Any,
) -> dict[str, Any]:
    """Return the body of an investment.reported append."""
    fields: dict[str, Any] = {"status": status, **data}
    if amount is not None:
        fields.update(amount={"amount": amount, "currency": "USD"}, amount_basis=basis)
    return {
        "type": "investment.reported",
        "occurred_at": occurred_at,
        "data": fields,
        "source": SOURCE,
    }


def new_deal(client: FlaskClient, headers: dict[str, str]) -> tuple[str, str, str]:
    """Register two organizations and open a deal between them: (investor, investee, deal)."""
    investor = register_org(client, headers, "Helix Cloud")
    investee = register_org(client, headers, "Nova Labs")
    return investor, investee, open_deal(client, headers, investor, investee)


def report(
    client: FlaskClient, headers: dict[str, str], deal_id: str, **kwargs: Any
) -> dict[str, Any]:
    """Append an investment report to a deal and return the append result."""
    return created(
        client.post(f"/api/v1/deals/{deal_id}/events", json=investment(**kwargs), headers=headers)
    )
