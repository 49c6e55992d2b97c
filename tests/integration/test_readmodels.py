"""Read models maintained append by append equal a full rebuild, and both equal the pure fold."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text

from app.config import Settings
from app.domain.envelope import NewEvent
from app.domain.fold import fold_deal, fold_organization
from app.progress import Progress
from app.projections.rebuild import rebuild
from app.service import DealTracker
from app.store.database import make_engine
from app.store.eventstore import EventStore
from tests.conftest import new_id

SOURCE = {"publisher": "The Ledger", "attribution": "reported"}
START = datetime(2023, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def own_engine(databases: Any) -> Iterator[Engine]:
    engine = make_engine(databases.migrated(), Settings())
    yield engine
    engine.dispose()


def live_rows(engine: Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        orgs = {
            r.org_id: (r.version, r.state, r.search_text)
            for r in conn.execute(text("SELECT * FROM organization_view"))
        }
        deals = {
            r.deal_id: (r.version, r.status, r.state)
            for r in conn.execute(text("SELECT * FROM deal_view"))
        }
        parties = sorted(
            tuple(r)
            for r in conn.execute(text("SELECT deal_id, org_id, role FROM deal_party_view"))
        )
    return {"orgs": orgs, "deals": deals, "parties": parties}


report = st.fixed_dictionaries(
    {
        "status": st.sampled_from(
            ["rumored", "considering", "in_talks", "agreed", "completed", "called_off"]
        ),
        "amount_basis": st.sampled_from(["tranche", "cumulative"]),
        "amount": st.integers(min_value=1, max_value=50).map(
            lambda n: {"amount": str(n * 250_000_000), "currency": "USD"}
        ),
        "stake_percent": st.sampled_from([None, "5", "10.5", "20"]),
    }
)
step = st.one_of(
    st.tuples(st.just("report"), report, st.integers(0, 900)),
    st.tuples(st.just("correct"), st.integers(0, 50), st.integers(1, 50)),
    st.tuples(st.just("retract"), st.integers(0, 50), st.just(0)),
)


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=st.lists(step, min_size=1, max_size=12))
def test_read_models_equal_rebuild_and_pure_fold(
    own_engine: Engine, steps: list[tuple[Any, ...]]
) -> None:
    tracker = DealTracker(EventStore(own_engine))
    investor, investee, deal = new_id("inv"), new_id("tee"), new_id("deal")
    for org in (investor, investee):
        tracker.append(
            f"org:{org}",
            NewEvent(
                "organization.registered",
                {"name": org.upper(), "kind": "company", "aliases": ["별칭 " + org]},
            ),
        )
    stream = f"deal:{deal}"
    tracker.append(
        stream,
        NewEvent(
            "deal.opened",
            {
                "kind": "investment",
                "title": "t",
                "parties": {"investor": investor, "investee": investee},
            },
            START,
            source=SOURCE,
        ),
    )
    live_reports: list[uuid.UUID] = []
    for kind, first, second in steps:
        if kind == "report":
            data = {k: v for k, v in first.items() if v is not None}
            event = NewEvent(
                "investment.reported", data, START + timedelta(days=second), "day", SOURCE
            )
            live_reports.append(tracker.append(stream, event).events[0].event_id)
        elif live_reports and kind == "correct":
            target = live_reports[first % len(live_reports)]
            tracker.correct(
                target, {"amount": {"amount": str(second * 100_000_000), "currency": "USD"}}, "typo"
            )
        elif live_reports and kind == "retract":
            target = live_reports.pop(first % len(live_reports))
            tracker.retract(target, "not confirmed")

    store = tracker.store
    maintained = live_rows(own_engine)
    assert maintained["deals"][deal][2] == fold_deal(store.read_stream(stream), with_history=False)
    assert maintained["orgs"][investee][1] == fold_organization(
        store.read_stream(f"org:{investee}"), with_history=False
    )

    rebuild(store, progress=Progress("rebuild", stream=io.StringIO()))
    assert live_rows(own_engine) == maintained


def test_rebuild_reports_progress_and_sets_the_checkpoint(own_engine: Engine) -> None:
    tracker = DealTracker(EventStore(own_engine))
    tracker.append(
        f"org:{new_id()}",
        NewEvent("organization.registered", {"name": "한빛반도체", "kind": "company"}),
    )
    out = io.StringIO()
    result = rebuild(tracker.store, progress=Progress("rebuild", stream=out))
    assert result.events == tracker.store.head_position()
    assert "rebuild" in out.getvalue() and f"{result.events:,}" in out.getvalue()
    with own_engine.connect() as conn:
        checkpoint = conn.execute(text("SELECT position FROM projection_checkpoints")).scalar_one()
        tables = conn.execute(
            text("SELECT count(*) FROM pg_tables WHERE tablename LIKE '%_rebuild'")
        ).scalar_one()
    assert checkpoint == result.position == tracker.store.head_position()
    assert tables == 0


def test_rebuild_cli_shows_progress(database_url: str) -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "DATABASE_URL": database_url}
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "projections", "rebuild"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "rebuild:" in done.stderr and "rebuilt read models" in done.stdout
