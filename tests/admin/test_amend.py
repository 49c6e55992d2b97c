"""Correcting and retracting: each needs a reason and shows what will change before it is saved."""

from __future__ import annotations

import re
from typing import Any

from app.domain.envelope import NewEvent
from app.service import DealTracker
from tests.admin.conftest import DAY, Browser, open_deal, register_org


def _deal_with_report(tracker: DealTracker) -> tuple[str, str]:
    deal_id = open_deal(tracker, register_org(tracker, "Helix"), register_org(tracker, "Nova"))
    report = {"status": "completed", "amount_text": "80억달러", "amount_basis": "cumulative"}
    source = {"publisher": "한국경제"}
    result = tracker.append(
        f"deal:{deal_id}", NewEvent("investment.reported", report, DAY, "day", source)
    )
    return deal_id, str(result.events[0].event_id)


def _hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found is not None, name
    return found.group(1)


def _correction_form(editor: Browser, event_id: str, **changes: str) -> dict[str, Any]:
    html = editor.get(f"/admin/events/{event_id}/correct").get_data(as_text=True)
    form = {
        "event_id": _hidden(html, "event_id"),
        "status": "completed",
        "amount": "80억달러",
        "amount_basis": "cumulative",
        "reason": "",
    }
    assert 'value="80억달러"' in html  # the form starts from the event as it stands
    return {**form, **changes}


def test_every_report_on_the_deal_page_links_to_correct_and_retract(
    editor: Browser, tracker: DealTracker
) -> None:
    deal_id, event_id = _deal_with_report(tracker)
    html = editor.get(f"/admin/deals/{deal_id}").get_data(as_text=True)
    assert f"/admin/events/{event_id}/correct" in html
    assert f"/admin/events/{event_id}/retract" in html


def test_a_correction_without_a_reason_is_refused_next_to_the_reason(
    editor: Browser, tracker: DealTracker
) -> None:
    _, event_id = _deal_with_report(tracker)
    form = _correction_form(editor, event_id, amount="75억달러")
    response = editor.post(f"/admin/events/{event_id}/correct", form)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="err-reason"' in html
    assert 'value="75억달러"' in html


def test_a_correction_shows_what_changes_then_saves_only_the_changed_fields(
    editor: Browser, tracker: DealTracker
) -> None:
    deal_id, event_id = _deal_with_report(tracker)
    form = _correction_form(editor, event_id, amount="75억달러", reason="misprinted")
    html = editor.post(f"/admin/events/{event_id}/correct", form).get_data(as_text=True)
    assert "8,000,000,000 USD" in html and "7,500,000,000 USD" in html  # now and corrected
    assert len(tracker.history(f"deal:{deal_id}")) == 2
    saved = {**form, "reviewed": _hidden(html, "reviewed"), "save": "1"}
    assert editor.post(f"/admin/events/{event_id}/correct", saved).status_code == 302
    correction = tracker.history(f"deal:{deal_id}")[-1]
    assert correction["type"] == "event.corrected"
    assert correction["reason"] == "misprinted"
    assert correction["changes"] == {
        "amount": {"amount": "7500000000", "currency": "USD"},
        "amount_text": "75억달러",
    }
    state, _ = tracker.deal_state(deal_id)
    assert state["total_invested"] == [{"amount": "7500000000", "currency": "USD"}]


def test_a_correction_that_changes_nothing_is_refused(
    editor: Browser, tracker: DealTracker
) -> None:
    _, event_id = _deal_with_report(tracker)
    form = _correction_form(editor, event_id, reason="no change")
    html = editor.post(f"/admin/events/{event_id}/correct", form).get_data(as_text=True)
    assert "Nothing changed" in html


def test_a_retraction_shows_its_effect_and_needs_a_reason(
    editor: Browser, tracker: DealTracker
) -> None:
    deal_id, event_id = _deal_with_report(tracker)
    html = editor.get(f"/admin/events/{event_id}/retract").get_data(as_text=True)
    assert "Total invested" in html and "8,000,000,000 USD" in html
    form = {"event_id": _hidden(html, "event_id"), "reason": "  "}
    response = editor.post(f"/admin/events/{event_id}/retract", form)
    assert response.status_code == 422
    assert 'id="err-reason"' in response.get_data(as_text=True)
    form["reason"] = "the outlet withdrew the story"
    assert editor.post(f"/admin/events/{event_id}/retract", form).status_code == 302
    state, _ = tracker.deal_state(deal_id)
    assert state["total_invested"] == []
    html = editor.get(f"/admin/deals/{deal_id}").get_data(as_text=True)
    assert "badge-retracted" in html and "the outlet withdrew the story" in html
    assert editor.get(f"/admin/events/{event_id}/correct").status_code == 409


def test_the_opening_event_cannot_be_retracted(editor: Browser, tracker: DealTracker) -> None:
    deal_id, _ = _deal_with_report(tracker)
    opened = tracker.history(f"deal:{deal_id}")[0]["event_id"]
    assert editor.get(f"/admin/events/{opened}/retract").status_code == 409
    assert editor.get("/admin/events/not-a-uuid/correct").status_code == 404


def test_a_reader_cannot_correct(sign_in: Any, tracker: DealTracker) -> None:
    _, event_id = _deal_with_report(tracker)
    reader = sign_in("reader")
    assert reader.get(f"/admin/events/{event_id}/correct").status_code == 403
