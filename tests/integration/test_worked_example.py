"""The worked example of the domain spec through the service, the store and the read models."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from app.config import Settings
from app.domain.envelope import NewEvent
from app.service import DealTracker, NotFound
from app.store.database import make_engine
from app.store.eventstore import EventStore


class Clock:
    """An injected clock the test moves forward by hand."""

    def __init__(self) -> None:
        self.now = datetime(2024, 1, 1, 9, tzinfo=UTC)

    def at(self, day: str) -> Clock:
        self.now = datetime.fromisoformat(day + "T09:00:00+00:00")
        return self

    def __call__(self) -> datetime:
        return self.now


def day(value: str) -> datetime:
    return datetime.fromisoformat(value + "T00:00:00+00:00")


def usd(billions: str) -> dict[str, str]:
    from decimal import Decimal

    amount = Decimal(billions) * 1_000_000_000
    return {"amount": format(amount.normalize(), "f"), "currency": "USD"}


OFFICIAL = {"publisher": "Helix Cloud newsroom", "attribution": "official"}
ANONYMOUS = {"publisher": "The Daily Ledger", "attribution": "anonymous_sources"}


def report(
    occurred: str, status: str, basis: str = "tranche", amount: str | None = None, **data: object
) -> NewEvent:
    body: dict[str, object] = {"status": status, "amount_basis": basis, **data}
    if amount is not None:
        body["amount"] = usd(amount)
    source = ANONYMOUS if status == "considering" else OFFICIAL
    return NewEvent(
        type="investment.reported",
        data=body,
        occurred_at=day(occurred),
        occurred_precision="day",
        source=source,
    )


@pytest.fixture
def example(fresh_database_url: str) -> Iterator[tuple[DealTracker, Clock, dict[str, object]]]:
    clock = Clock()
    engine = make_engine(fresh_database_url, Settings())
    tracker = DealTracker(EventStore(engine, clock=clock), clock=clock)
    clock.at("2024-01-02")
    tracker.append(
        "org:helix-cloud",
        NewEvent(
            "organization.registered", {"name": "Helix Cloud", "kind": "company"}, day("2015-01-01")
        ),
    )
    tracker.append(
        "org:nova-labs",
        NewEvent(
            "organization.registered",
            {"name": "Nova Labs", "kind": "company", "aliases": ["노바랩스", "Nova"]},
            day("2021-01-01"),
        ),
    )
    tracker.append(
        "deal:helix-nova",
        NewEvent(
            "deal.opened",
            {
                "kind": "investment",
                "title": "Helix Cloud invests in Nova Labs",
                "parties": {"investor": "helix-cloud", "investee": "nova-labs"},
            },
            day("2023-09-25"),
            source=OFFICIAL,
        ),
    )
    ids: dict[str, object] = {}

    def add(name: str, recorded: str, event: NewEvent) -> None:
        clock.at(recorded)
        ids[name] = tracker.append("deal:helix-nova", event).events[0].event_id

    add(
        "e1",
        "2024-01-05",
        report("2023-09-25", "completed", amount="1.25", instrument="convertible_note"),
    )
    add(
        "e2",
        "2024-04-01",
        report("2024-03-27", "completed", amount="2.75", instrument="convertible_note"),
    )
    add("e3", "2024-11-25", report("2024-11-22", "completed", amount="4", instrument="equity"))
    add("e4", "2025-01-11", report("2025-01-10", "considering"))
    clock.at("2025-01-20")
    ids["e5"] = (
        tracker.correct(ids["e2"], {"amount": usd("2.5")}, "the filing says 2.5B")
        .events[0]
        .event_id
    )  # type: ignore[arg-type]
    add("e6", "2025-01-21", report("2024-06-01", "completed", basis="cumulative", amount="4"))
    yield tracker, clock, ids
    engine.dispose()


def total(state: dict[str, object]) -> list[dict[str, str]]:
    return state["total_invested"]  # type: ignore[return-value]


def test_now_total_is_the_cumulative_plus_the_tranche_after_it(example) -> None:
    tracker, _, ids = example
    state, basis = tracker.deal_state("helix-nova")
    assert state["status"] == "considering"
    assert total(state) == [usd("8")]
    assert [p["event_id"] for p in state["pending"]] == [str(ids["e4"])]
    assert basis.position > 0


def test_known_at_before_the_correction_and_the_late_total(example) -> None:
    tracker, _, _ = example
    state, basis = tracker.deal_state("helix-nova", known_at=day("2025-01-15"))
    assert total(state) == [usd("8")]
    assert basis.known_at == day("2025-01-15")


def test_known_at_after_the_correction_but_before_the_late_total(example) -> None:
    tracker, _, _ = example
    state, _ = tracker.deal_state("helix-nova", known_at=datetime(2025, 1, 20, 12, tzinfo=UTC))
    assert total(state) == [usd("7.75")]


def test_as_of_end_of_2024(example) -> None:
    tracker, _, _ = example
    state, _ = tracker.deal_state("helix-nova", as_of=day("2024-12-31"))
    assert state["status"] == "completed"
    assert total(state) == [usd("8")]


def test_as_of_april_2024_counts_corrected_tranches_only(example) -> None:
    tracker, _, _ = example
    state, _ = tracker.deal_state("helix-nova", as_of=day("2024-04-30"))
    assert total(state) == [usd("3.75")]
    assert state["instruments"] == ["convertible_note"]


def test_retraction_of_e3_leaves_the_cumulative_alone_and_keeps_the_past_answer(example) -> None:
    tracker, clock, ids = example
    clock.at("2025-02-01")
    tracker.retract(ids["e3"], "the tranche was never confirmed")  # type: ignore[arg-type]
    state, _ = tracker.deal_state("helix-nova")
    assert total(state) == [usd("4")]
    past, _ = tracker.deal_state("helix-nova", known_at=day("2025-01-25"))
    assert total(past) == [usd("8")]
    assert "history" not in state  # the timeline is served by history(), not inside the state
    effects = {entry["event_id"]: entry["effect"] for entry in tracker.history("deal:helix-nova")}
    assert effects[str(ids["e3"])] == "retracted"


def test_search_finds_nova_labs_by_korean_alias_name_and_case(example) -> None:
    tracker, _, _ = example
    for query in ("노바랩스", "nova labs", "NOVA"):
        assert "nova-labs" in [o["id"] for o in tracker.search_organizations(query)], query


def test_organization_state_lists_the_investor_with_the_total(example) -> None:
    tracker, _, _ = example
    state, _ = tracker.organization_state("nova-labs")
    [investor] = state["investors"]
    assert investor["counterpart"] == "helix-cloud"
    assert investor["total_invested"] == [usd("8")]
    past, _ = tracker.organization_state(
        "nova-labs", known_at=datetime(2025, 1, 20, 12, tzinfo=UTC)
    )
    assert past["investors"][0]["total_invested"] == [usd("7.75")]


def test_unknown_deal_and_deal_not_yet_known(example) -> None:
    tracker, _, _ = example
    with pytest.raises(NotFound):
        tracker.deal_state("no-such-deal")
    with pytest.raises(NotFound):
        tracker.deal_state("helix-nova", known_at=day("2023-01-01"))


def test_stale_expected_version_is_a_conflict_even_when_the_event_is_now_invalid(example) -> None:
    from app.store.errors import WrongExpectedVersion

    tracker, clock, ids = example
    clock.at("2025-02-02")
    version = tracker.store.stream_version("deal:helix-nova")
    tracker.retract(ids["e3"], "not confirmed")  # type: ignore[arg-type]
    stale = NewEvent(
        "event.retracted", {"target_event_id": str(ids["e3"]), "reason": "again"}, source=OFFICIAL
    )
    with pytest.raises(WrongExpectedVersion) as raised:
        tracker.append("deal:helix-nova", stale, expected_version=version)
    assert raised.value.current == version + 1
