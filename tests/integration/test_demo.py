"""The demo dataset loads, shows real state, and loading it twice changes nothing."""

from __future__ import annotations

from sqlalchemy import Engine

from app.demo import load_demo
from app.service import DealTracker
from app.store.eventstore import EventStore


def test_demo_loads_once_and_shows_the_worked_example_totals(fresh_database_url: str) -> None:
    from app.config import Settings
    from app.store.database import make_engine

    engine: Engine = make_engine(fresh_database_url, Settings())
    written = load_demo(engine)
    store = EventStore(engine)
    head = store.head_position()
    assert written == head > 20
    assert load_demo(engine) == 0
    assert store.head_position() == head

    tracker = DealTracker(store)
    deal, _ = tracker.deal_state("helix-nova")
    assert deal["total_invested"] == [{"amount": "8000000000", "currency": "USD"}]
    assert deal["status"] == "considering"
    rumor, _ = tracker.deal_state("aurora-hanbit")
    assert rumor["total_invested"] == [] and rumor["stake"]["percent"] == "4.9"
    assert [o["id"] for o in tracker.search_organizations("한빛")] == ["hanbit-semiconductor"]
    assert "nova-labs" in [o["id"] for o in tracker.search_organizations("노바랩스")]
    engine.dispose()
