"""Recording from an article: amounts typed as printed, read back for review before saving."""

from __future__ import annotations

import re
from typing import Any

from app.service import DealTracker
from tests.admin.conftest import Browser, open_deal, register_org


def _deal(tracker: DealTracker) -> str:
    return open_deal(
        tracker, register_org(tracker, "Helix Cloud"), register_org(tracker, "Nova Labs")
    )


def _form(browser: Browser, deal_id: str, **fields: str) -> dict[str, Any]:
    html = browser.get(f"/admin/deals/{deal_id}/record").get_data(as_text=True)
    event_id = re.search(r'name="event_id" value="([^"]+)"', html)
    assert event_id is not None
    return {
        "type": "investment.reported",
        "event_id": event_id.group(1),
        "status": "completed",
        "amount": "80억달러",
        "amount_basis": "cumulative",
        "occurred": "2025-01-10",
        "occurred_precision": "day",
        "source_publisher": "한국경제",
        "source_url": "https://news.example/a",
        "source_attribution": "reported",
        **fields,
    }


def _reviewed(html: str) -> str:
    found = re.search(r'name="reviewed" value="([^"]+)"', html)
    assert found is not None, "no review step"
    return found.group(1)


def test_the_deal_page_links_to_its_record_form(editor: Browser, tracker: DealTracker) -> None:
    deal_id = _deal(tracker)
    html = editor.get(f"/admin/deals/{deal_id}").get_data(as_text=True)
    assert f"/admin/deals/{deal_id}/record?type=investment.reported" in html


def test_the_first_submit_shows_the_parsed_amount_and_saves_nothing(
    editor: Browser, tracker: DealTracker
) -> None:
    deal_id = _deal(tracker)
    response = editor.post(f"/admin/deals/{deal_id}/record", _form(editor, deal_id))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "8,000,000,000 USD" in html and "Save" in html
    assert "typed “80억달러”" in html
    assert len(tracker.history(f"deal:{deal_id}")) == 1  # only deal.opened


def test_the_second_submit_saves_amount_and_text_as_typed(
    editor: Browser, tracker: DealTracker
) -> None:
    deal_id = _deal(tracker)
    form = _form(editor, deal_id)
    fingerprint = _reviewed(
        editor.post(f"/admin/deals/{deal_id}/record", form).get_data(as_text=True)
    )
    response = editor.post(
        f"/admin/deals/{deal_id}/record", {**form, "reviewed": fingerprint, "save": "1"}
    )
    assert response.status_code == 302
    report = tracker.history(f"deal:{deal_id}")[-1]
    assert report["data"]["amount"] == {"amount": "8000000000", "currency": "USD"}
    assert report["data"]["amount_text"] == "80억달러"
    assert report["source"]["publisher"] == "한국경제"
    assert report["occurred_at"] == "2025-01-10T00:00:00Z"
    state, _ = tracker.deal_state(deal_id)
    assert state["total_invested"] == [{"amount": "8000000000", "currency": "USD"}]


def test_saving_twice_records_one_event(editor: Browser, tracker: DealTracker) -> None:
    deal_id = _deal(tracker)
    form = _form(editor, deal_id)
    fingerprint = _reviewed(
        editor.post(f"/admin/deals/{deal_id}/record", form).get_data(as_text=True)
    )
    for _ in range(2):
        editor.post(
            f"/admin/deals/{deal_id}/record", {**form, "reviewed": fingerprint, "save": "1"}
        )
    assert len(tracker.history(f"deal:{deal_id}")) == 2


def test_an_amount_changed_after_review_is_reviewed_again(
    editor: Browser, tracker: DealTracker
) -> None:
    deal_id = _deal(tracker)
    form = _form(editor, deal_id)
    fingerprint = _reviewed(
        editor.post(f"/admin/deals/{deal_id}/record", form).get_data(as_text=True)
    )
    changed = {**form, "amount": "$8.5 billion", "reviewed": fingerprint, "save": "1"}
    html = editor.post(f"/admin/deals/{deal_id}/record", changed).get_data(as_text=True)
    assert "8,500,000,000 USD" in html
    assert len(tracker.history(f"deal:{deal_id}")) == 1


def test_an_amount_without_currency_is_refused_next_to_the_field_and_kept(
    editor: Browser, tracker: DealTracker
) -> None:
    deal_id = _deal(tracker)
    response = editor.post(f"/admin/deals/{deal_id}/record", _form(editor, deal_id, amount="80억"))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    error = re.search(r'<p class="error" id="err-amount">([^<]+)</p>', html)
    assert error is not None and "currency" in error.group(1)
    assert 'value="80억"' in html
    assert 'name="reviewed"' not in html


def test_missing_publisher_status_and_date_are_each_shown_next_to_their_field(
    editor: Browser, tracker: DealTracker
) -> None:
    deal_id = _deal(tracker)
    form = _form(editor, deal_id, source_publisher="", source_url="", status="", occurred="")
    html = editor.post(f"/admin/deals/{deal_id}/record", form).get_data(as_text=True)
    for field in ("source_publisher", "status", "occurred"):
        assert f'id="err-{field}"' in html, field


def test_an_amount_needs_its_basis(editor: Browser, tracker: DealTracker) -> None:
    deal_id = _deal(tracker)
    html = editor.post(
        f"/admin/deals/{deal_id}/record", _form(editor, deal_id, amount_basis="")
    ).get_data(as_text=True)
    assert 'id="err-amount_basis"' in html and "tranche or cumulative" in html


def test_an_organization_figure_is_recorded_with_a_bare_number(
    editor: Browser, tracker: DealTracker
) -> None:
    org_id = register_org(tracker, "Headcount Co")
    url = f"/admin/organizations/{org_id}/record"
    form = {
        "type": "organization.figure_reported",
        "metric": "headcount",
        "value": "1,200",
        "occurred": "2025-03-15",
        "occurred_precision": "month",
    }
    html = editor.post(url, form).get_data(as_text=True)
    response = editor.post(url, {**form, "reviewed": _reviewed(html), "save": "1"})
    assert response.status_code == 302
    state, _ = tracker.organization_state(org_id)
    latest = state["figures"]["headcount"]["latest"]
    assert latest["value"] == "1200"
    assert latest["occurred_at"] == "2025-03-01T00:00:00Z"  # month precision starts the month


def test_a_type_that_does_not_belong_to_the_stream_is_refused(
    editor: Browser, tracker: DealTracker
) -> None:
    deal_id = _deal(tracker)
    assert editor.get(f"/admin/deals/{deal_id}/record?type=partnership.reported").status_code == 404
