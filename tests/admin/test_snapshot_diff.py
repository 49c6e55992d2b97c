"""A snapshot diff reads as named rows with whole amounts (pure, no database)."""

from __future__ import annotations

from app.admin.snapshot_diff import readable
from app.snapshots.diff import diff_states


def test_list_items_are_named_and_amounts_shown_whole() -> None:
    deal = {"title": "Helix in Nova", "deal_id": "helix-nova", "status": "considering"}
    before = {
        "organizations": {"nova": {"name": "Nova", "investors": [{**deal, "total_invested": []}]}},
        "deals": {"helix-nova": {"status": "considering", "history": [1], "total_invested": []}},
    }
    money = [{"amount": "8000000000", "currency": "USD"}]
    after = {
        "organizations": {
            "nova": {"name": "Nova", "investors": [{**deal, "total_invested": money}]}
        },
        "deals": {
            "helix-nova": {"status": "completed", "history": [1, 2], "total_invested": money}
        },
    }
    diff = diff_states(before, after)
    orgs = readable(diff["organizations"], before["organizations"], after["organizations"])
    assert orgs["changed"][0]["rows"] == [
        ("investors › Helix in Nova › total invested", "—", "8,000,000,000 USD")
    ]
    deals = readable(diff["deals"], before["deals"], after["deals"])
    assert deals["changed"][0]["rows"] == [
        ("status", "considering", "completed"),
        ("total invested", "—", "8,000,000,000 USD"),
    ]
    assert deals["changed"][0]["quiet"] == 1  # the new timeline entry is counted, not listed
