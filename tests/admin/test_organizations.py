"""Organizations: register with errors next to the fields, find by a Korean alias, the page."""

from __future__ import annotations

import uuid

from app.service import DealTracker
from tests.admin.conftest import Browser, open_deal, register_org


def test_registering_an_organization_with_a_korean_alias(
    editor: Browser, tracker: DealTracker
) -> None:
    suffix = uuid.uuid4().hex[:8]
    org_id = f"nova-{suffix}"
    response = editor.post(
        "/admin/organizations/new",
        {
            "name": f"Nova Labs {suffix}",
            "id": org_id,
            "kind": "company",
            "aliases": "노바랩스\nNova",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/admin/organizations/{org_id}"
    state, _ = tracker.organization_state(org_id)
    assert [a["alias"] for a in state["aliases"]] == ["노바랩스", "Nova"]
    history = tracker.history(f"org:{org_id}")
    assert history[0]["metadata"]["actor"].startswith("user:editor-")


def test_a_missing_name_is_shown_next_to_the_field_with_the_input_kept(editor: Browser) -> None:
    response = editor.post(
        "/admin/organizations/new", {"name": "", "kind": "company", "aliases": "노바랩스"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert '<p class="error" id="err-name">required</p>' in html
    assert ">노바랩스</textarea>" in html


def test_a_taken_id_is_refused_next_to_the_id_field(editor: Browser, tracker: DealTracker) -> None:
    org_id = register_org(tracker, "Taken Co")
    response = editor.post(
        "/admin/organizations/new", {"name": "Other", "id": org_id, "kind": "company"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="err-id"' in html and "is taken" in html


def test_search_finds_an_organization_by_its_korean_alias(
    editor: Browser, tracker: DealTracker
) -> None:
    alias = "한빛" + uuid.uuid4().hex[:6]
    org_id = register_org(tracker, "Hanbit Semiconductor", [alias])
    html = editor.get(f"/admin/organizations?q={alias}").get_data(as_text=True)
    assert f"/admin/organizations/{org_id}" in html
    html = editor.get(f"/admin/organizations?q={alias.upper()}").get_data(as_text=True)
    assert f"/admin/organizations/{org_id}" in html


def test_the_organization_page_shows_profile_investors_and_timeline(
    editor: Browser, tracker: DealTracker
) -> None:
    investor = register_org(tracker, "Helix Cloud")
    investee = register_org(tracker, "Nova Labs", ["노바랩스"])
    deal_id = open_deal(tracker, investor, investee)
    html = editor.get(f"/admin/organizations/{investee}").get_data(as_text=True)
    assert "Nova Labs" in html and "노바랩스" in html
    assert f"/admin/deals/{deal_id}" in html  # listed under investors
    assert "Organization registered" in html  # the timeline
    assert f"/admin/organizations/{investee}/record" in html
    assert editor.get("/admin/organizations/no-such-org").status_code == 404


def test_suggestions_answer_json_for_the_party_pickers(
    editor: Browser, tracker: DealTracker
) -> None:
    alias = "노바" + uuid.uuid4().hex[:6]
    org_id = register_org(tracker, "Suggested", [alias])
    found = editor.get(f"/admin/organizations/suggest?q={alias}").get_json()
    assert found == [{"id": org_id, "name": "Suggested"}]
