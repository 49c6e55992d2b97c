"""The organization fold, how deals relate to organizations, and the global fold for snapshots."""

from __future__ import annotations

import json

from app.domain.fold import (
    fold_deal,
    fold_global,
    fold_organization,
    organization_state,
    relate_deals,
)
from tests.unit.fold_factory import Log, at, source, usd, worked_example


def figure(log: Log, org: str, metric: str, value, *, recorded: str, unit=None, **when) -> object:
    data = {"metric": metric, "value": value, "unit": unit}
    return log.append(
        f"org:{org}", "organization.figure_reported", data, recorded=recorded, src=source(), **when
    )


def test_registration_gives_the_profile_and_aliases_in_either_form() -> None:
    log = Log()
    log.register(
        "nova-labs",
        "Nova Labs",
        country="KR",
        website="https://nova.example",
        aliases=["노바랩스", {"alias": "Nova", "language": "en"}],
    )
    log.append(
        "org:nova-labs",
        "organization.alias_added",
        {"alias": "NL", "language": None},
        recorded="2023-02-01",
    )
    log.append(
        "org:nova-labs",
        "organization.alias_added",
        {"alias": "Nova", "language": "en"},
        recorded="2023-03-01",
    )
    state = fold_organization(log.events)
    assert (state["id"], state["name"], state["kind"], state["country"]) == (
        "nova-labs",
        "Nova Labs",
        "company",
        "KR",
    )
    assert state["website"] == "https://nova.example"
    assert state["aliases"] == [
        {"alias": "노바랩스", "language": None},
        {"alias": "Nova", "language": "en"},
        {"alias": "NL", "language": None},
    ]
    assert (state["version"], state["event_count"]) == (3, 3)


def test_rename_keeps_the_former_name_and_as_of_before_it_shows_the_old_name() -> None:
    log = Log()
    log.register("orbit", "Orbit Chips", recorded="2020-01-01")
    rename = log.append(
        "org:orbit", "organization.renamed", {"name": "Orbit Semiconductor"}, recorded="2024-05-01"
    )
    state = fold_organization(log.events)
    assert state["name"] == "Orbit Semiconductor"
    assert state["former_names"] == [
        {"name": "Orbit Chips", "until": "2024-05-01T09:00:00Z", "event_id": str(rename.event_id)}
    ]
    before = fold_organization(log.events, as_of=at("2024-01-01"))
    assert (before["name"], before["former_names"]) == ("Orbit Chips", [])


def test_figures_keep_history_in_valid_time_order_and_the_latest_value() -> None:
    log = Log()
    log.register("nova-labs", "Nova Labs")
    first = figure(log, "nova-labs", "valuation", usd("30000000000"), recorded="2024-01-01")
    late_old = figure(
        log,
        "nova-labs",
        "valuation",
        usd("20000000000"),
        recorded="2024-06-01",
        occurred="2023-06-01",
    )
    figure(log, "nova-labs", "headcount", "1200", recorded="2024-02-01", unit="people")
    announced = log.append(
        "org:nova-labs",
        "organization.announced",
        {
            "headline": "Nova Labs raises at a higher valuation",
            "summary": "New round.",
            "related": ["helix-cloud"],
            "figures": [{"metric": "valuation", "value": usd("61500000000")}],
        },
        recorded="2024-09-01",
        src=source(),
    )
    state = fold_organization(log.events)
    valuation = state["figures"]["valuation"]
    assert [h["event_id"] for h in valuation["history"]] == [
        str(late_old.event_id),
        str(first.event_id),
        str(announced.event_id),
    ]
    assert valuation["latest"]["value"] == usd("61500000000")
    assert valuation["latest"]["event_type"] == "organization.announced"
    assert state["figures"]["headcount"]["latest"]["value"] == "1200"
    assert state["figures"]["headcount"]["latest"]["unit"] == "people"
    assert list(state["figures"]) == ["headcount", "valuation"]
    [announcement] = state["announcements"]
    assert announcement["headline"] == "Nova Labs raises at a higher valuation"
    assert announcement["related"] == ["helix-cloud"]
    assert announcement["figures"] == [
        {"metric": "valuation", "value": usd("61500000000"), "unit": None, "counterparty": None}
    ]
    assert state["conflicts"] == []
    assert json.loads(json.dumps(state)) == state


def test_two_figures_for_the_same_month_that_disagree_are_a_conflict() -> None:
    log = Log()
    log.register("nova-labs", "Nova Labs")
    figure(log, "nova-labs", "annual_revenue", usd("100"), recorded="2024-03-02", precision="month")
    figure(log, "nova-labs", "annual_revenue", usd("120"), recorded="2024-03-20", precision="day")
    figure(log, "nova-labs", "annual_revenue", "5", recorded="2024-03-21", precision="day")
    [conflict] = fold_organization(log.events)["conflicts"]
    assert (conflict["field"], conflict["period"]) == ("figures.annual_revenue", "2024-03")
    assert conflict["chosen"]["value"] == usd("120")


def test_a_retracted_figure_disappears_from_the_history() -> None:
    log = Log()
    log.register("nova-labs", "Nova Labs")
    kept = figure(log, "nova-labs", "market_cap", usd("10"), recorded="2024-01-01")
    wrong = figure(log, "nova-labs", "market_cap", usd("99"), recorded="2024-02-01")
    log.retract(wrong, recorded="2024-02-02")
    market_cap = fold_organization(log.events)["figures"]["market_cap"]
    assert [h["event_id"] for h in market_cap["history"]] == [str(kept.event_id)]


def deals_between_helix_and_nova() -> list[dict]:
    log = Log()
    log.open_deal(
        "helix-nova",
        "investment",
        {"investor": "helix-cloud", "investee": "nova-labs"},
        recorded="2024-01-01",
    )
    log.invest("helix-nova", "completed", recorded="2024-01-02", amount="5", stake_percent="3")
    log.open_deal(
        "compute-pact",
        "partnership",
        {"members": ["nova-labs", "helix-cloud"]},
        recorded="2024-01-03",
    )
    log.append(
        "deal:compute-pact",
        "partnership.reported",
        {"status": "active", "name": "Compute Pact"},
        recorded="2024-01-04",
        src=source(),
    )
    log.open_deal(
        "nova-buys-orbit",
        "acquisition",
        {"acquirer": "nova-labs", "target": "orbit"},
        recorded="2024-01-05",
    )
    log.append(
        "deal:nova-buys-orbit",
        "acquisition.reported",
        {"status": "agreed", "price": usd("7")},
        recorded="2024-01-06",
        src=source(),
    )
    return [
        fold_deal(log.stream(f"deal:{d}"))
        for d in ("nova-buys-orbit", "helix-nova", "compute-pact")
    ]


def test_relate_deals_lists_each_role_with_its_counterpart() -> None:
    deals = deals_between_helix_and_nova()
    nova = relate_deals("nova-labs", deals)
    assert nova["investors"] == [
        {
            "deal_id": "helix-nova",
            "title": "Helix Nova",
            "counterpart": "helix-cloud",
            "total_invested": [usd("5")],
            "stake": deals[1]["stake"],
            "status": "completed",
        }
    ]
    assert nova["investments"] == []
    assert nova["partnerships"] == [
        {
            "deal_id": "compute-pact",
            "title": "Compute Pact",
            "members": ["nova-labs", "helix-cloud"],
            "counterparts": ["helix-cloud"],
            "name": "Compute Pact",
            "status": "active",
        }
    ]
    [acquisition] = nova["acquisitions"]
    assert (acquisition["role"], acquisition["counterpart"], acquisition["price"]["value"]) == (
        "acquirer",
        "orbit",
        usd("7"),
    )
    helix = relate_deals("helix-cloud", deals)
    assert [i["counterpart"] for i in helix["investments"]] == ["nova-labs"]
    assert helix["investors"] == [] and helix["acquisitions"] == []
    assert relate_deals("orbit", deals)["acquisitions"][0]["role"] == "target"
    assert relate_deals("nobody", deals) == {
        "investors": [],
        "investments": [],
        "partnerships": [],
        "acquisitions": [],
    }


def test_organization_state_merges_the_profile_with_its_deals() -> None:
    log, _ = worked_example()
    deal = fold_deal(log.stream("deal:helix-nova"))
    nova = organization_state(log.stream("org:nova-labs"), [deal])
    assert nova["name"] == "Nova Labs"
    assert [a["alias"] for a in nova["aliases"]] == ["노바랩스", "Nova"]
    assert nova["investors"][0]["total_invested"] == [usd("8000000000")]
    assert nova["investors"][0]["counterpart"] == "helix-cloud"


def test_global_fold_groups_streams_and_reports_the_last_position() -> None:
    log, _ = worked_example()
    state = fold_global(reversed(log.events))
    assert state["position"] == len(log.events)
    assert sorted(state["organizations"]) == ["helix-cloud", "nova-labs"]
    assert list(state["deals"]) == ["helix-nova"]
    assert state["deals"]["helix-nova"] == fold_deal(
        log.stream("deal:helix-nova"), with_history=False
    )
    assert "history" not in state["deals"]["helix-nova"]
    assert state["organizations"]["helix-cloud"]["investments"][0]["deal_id"] == "helix-nova"
    assert json.loads(json.dumps(state)) == state


def test_global_fold_at_a_known_at_stops_at_the_position_then_known() -> None:
    log, e = worked_example()
    state = fold_global(log.events, known_at=at("2025-01-15"))
    assert state["position"] == e["e4"].position
    assert state["deals"]["helix-nova"]["total_invested"] == [usd("8000000000")]
    assert fold_global(log.events, known_at=at("2000-01-01")) == {
        "position": 0,
        "organizations": {},
        "deals": {},
    }
