"""Deals: opening one with parties chosen by search, the list, and the page as of a date."""

from __future__ import annotations

import re
import uuid

from app.domain.envelope import NewEvent
from app.service import DealTracker
from tests.admin.conftest import DAY, Browser, open_deal, register_org

SOURCE = {"source_publisher": "Test Wire", "source_attribution": "reported"}


def test_parties_found_by_exact_alias_open_the_deal_at_once(
    editor: Browser, tracker: DealTracker
) -> None:
    alias = "노바랩스" + uuid.uuid4().hex[:6]
    investor = register_org(tracker, "Helix Cloud")
    investee = register_org(tracker, "Nova Labs", [alias])
    form = {"kind": "investment", "investor": investor, "investee": alias, "title": "Helix in Nova"}
    response = editor.post("/admin/deals/new", {**form, **SOURCE})
    assert response.status_code == 302
    deal_id = response.headers["Location"].rsplit("/", 1)[1]
    state, _ = tracker.deal_state(deal_id)
    assert state["parties"] == {"investor": investor, "investee": investee}


def test_an_ambiguous_party_is_picked_from_the_matches_without_javascript(
    editor: Browser, tracker: DealTracker
) -> None:
    word = "Orbit" + uuid.uuid4().hex[:6]
    first = register_org(tracker, f"{word} One")
    register_org(tracker, f"{word} Two")
    investee = register_org(tracker, "Target Co")
    form = {
        "kind": "investment",
        "investor": word,
        "investee": investee,
        "title": "Orbit deal",
        **SOURCE,
    }
    response = editor.post("/admin/deals/new", form)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="err-investor"' in html and "Pick the organization you mean" in html
    assert f'name="investor_pick" value="{first}"' in html
    assert 'value="Orbit deal"' in html  # the rest of the input is kept
    response = editor.post("/admin/deals/new", {**form, "investor_pick": first})
    assert response.status_code == 302


def test_an_unknown_party_and_a_missing_source_are_shown_next_to_their_fields(
    editor: Browser,
) -> None:
    response = editor.post(
        "/admin/deals/new",
        {"kind": "investment", "investor": "zz-nobody-" + uuid.uuid4().hex[:6], "title": "X"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="err-investor"' in html and "No organization matches" in html
    assert 'id="err-investee"' in html
    assert 'id="err-source_publisher"' in html  # every problem at once, not one per submit


def test_opening_a_deal_starts_with_choosing_its_type(editor: Browser) -> None:
    html = editor.get("/admin/deals/new").get_data(as_text=True)
    for kind in ("investment", "partnership", "acquisition"):
        assert f"/admin/deals/new?kind={kind}" in html


def test_the_deal_list_filters_by_party_type_and_status(
    editor: Browser, tracker: DealTracker
) -> None:
    investor = register_org(tracker, "Filter Investor")
    deal_id = open_deal(tracker, investor, register_org(tracker, "Filter Investee"))
    html = editor.get(f"/admin/deals?party={investor}&kind=investment").get_data(as_text=True)
    assert f"/admin/deals/{deal_id}" in html
    html = editor.get(f"/admin/deals?party={investor}&kind=partnership").get_data(as_text=True)
    assert f"/admin/deals/{deal_id}" not in html


def test_the_deal_page_re_renders_as_of_a_date(editor: Browser, tracker: DealTracker) -> None:
    deal_id = open_deal(tracker, register_org(tracker, "A"), register_org(tracker, "B"))
    report = {"status": "completed", "amount_text": "$8 billion", "amount_basis": "cumulative"}
    source = {"publisher": "Test Wire"}
    tracker.append(f"deal:{deal_id}", NewEvent("investment.reported", report, DAY, "day", source))
    html = editor.get(f"/admin/deals/{deal_id}").get_data(as_text=True)
    assert re.search(r'id="total-invested">8,000,000,000 USD<', html)
    assert "typed “$8 billion”" in html
    html = editor.get(f"/admin/deals/{deal_id}?as_of=2025-01-09").get_data(as_text=True)
    assert re.search(r'id="total-invested">—<', html)
    assert 'value="2025-01-09"' in html
    html = editor.get(f"/admin/deals/{deal_id}?known_at=2000-01-01").get_data(as_text=True)
    assert 'id="err-known_at"' in html and "known then" in html  # said next to the date
    assert re.search(r'id="total-invested">8,000,000,000 USD<', html)  # and shown as known now
    html = editor.get(f"/admin/deals/{deal_id}?as_of=yesterday").get_data(as_text=True)
    assert 'id="err-as_of"' in html
