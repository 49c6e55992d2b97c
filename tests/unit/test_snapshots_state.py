"""A snapshot plus the streams changed after it equals a full replay; diffs name each changed field."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.envelope import RecordedEvent
from app.domain.fold import fold_global
from app.snapshots.diff import diff_states
from app.snapshots.state import advance, canonical_json, decode_state, encode_state
from tests.unit.fold_factory import Log, source, usd

START = datetime(2024, 1, 1, tzinfo=UTC)
ORGS = 4
DEALS = 4

op = st.one_of(
    st.tuples(st.just("register"), st.integers(ORGS, ORGS + 1)),
    st.tuples(st.just("rename"), st.integers(0, ORGS - 1)),
    st.tuples(st.just("figure"), st.integers(0, ORGS - 1), st.integers(1, 90)),
    st.tuples(
        st.just("open"),
        st.integers(0, DEALS - 1),
        st.sampled_from(["investment", "partnership"]),
        st.integers(0, ORGS - 1),
        st.integers(0, ORGS - 1),
    ),
    st.tuples(
        st.just("report"),
        st.integers(0, DEALS - 1),
        st.sampled_from(["considering", "agreed", "completed"]),
        st.integers(1, 40),
        st.sampled_from(["tranche", "cumulative"]),
        st.integers(0, 400),
    ),
    st.tuples(st.just("correct"), st.integers(0, 60), st.integers(1, 40)),
    st.tuples(st.just("retract"), st.integers(0, 60)),
)


def build(ops: Sequence[tuple[Any, ...]]) -> list[RecordedEvent]:
    """Apply the valid operations to a log, one recorded hour apart."""
    log = Log()
    registered = set(range(ORGS))
    for org in registered:
        opened = START - timedelta(days=1) + timedelta(minutes=org)
        log.register(f"org-{org}", f"Org {org}", recorded=opened.isoformat())
    deals = {0: "investment"}
    parties = {"investor": "org-0", "investee": "org-1"}
    log.open_deal(
        "deal-0", "investment", parties, recorded=(START - timedelta(hours=1)).isoformat()
    )
    reports: list[RecordedEvent] = []
    for step, (kind, *args) in enumerate(ops):
        when = START + timedelta(hours=step)
        if kind == "register" and args[0] not in registered:
            registered.add(args[0])
            log.register(f"org-{args[0]}", f"Org {args[0]}", recorded=when.isoformat())
        elif kind == "rename" and args[0] in registered:
            log.append(
                f"org:org-{args[0]}", "organization.renamed", {"name": f"New {step}"}, recorded=when
            )
        elif kind == "figure" and args[0] in registered:
            data = {"metric": "valuation", "value": usd(str(args[1] * 10**8))}
            log.append(f"org:org-{args[0]}", "organization.figure_reported", data, recorded=when)
        elif kind == "open" and args[0] not in deals and {args[2], args[3]} <= registered:
            deal_kind, a, b = args[1], f"org-{args[2]}", f"org-{args[3]}"
            parties = (
                {"investor": a, "investee": b} if deal_kind == "investment" else {"members": [a, b]}
            )
            deals[args[0]] = deal_kind
            log.open_deal(f"deal-{args[0]}", deal_kind, parties, recorded=when.isoformat())
        elif kind == "report" and args[0] in deals:
            deal_id, status, amount, basis, day = args
            occurred = START + timedelta(days=day - 200)
            if deals[deal_id] == "investment":
                reports.append(
                    log.invest(
                        f"deal-{deal_id}",
                        status,
                        recorded=when,
                        occurred=occurred,
                        amount=str(amount * 10**8),
                        basis=basis,
                    )
                )
            else:
                data = {"status": "announced", "scope": ["compute"]}
                reports.append(
                    log.append(
                        f"deal:deal-{deal_id}",
                        "partnership.reported",
                        data,
                        recorded=when,
                        occurred=occurred,
                        src=source(),
                    )
                )
        elif kind == "correct" and reports:
            target = reports[args[0] % len(reports)]
            log.correct(target, {"amount": usd(str(args[1] * 10**8))}, recorded=when)
        elif kind == "retract" and reports:
            log.retract(reports.pop(args[0] % len(reports)), recorded=when)
    return log.events


def streams_changed(
    events: list[RecordedEvent], after: int, up_to: int
) -> list[tuple[str, list[RecordedEvent]]]:
    """Return each stream with events in (after, up_to], with its events up to `up_to`, as the store reads them."""
    touched = sorted({e.stream_id for e in events if after < e.position <= up_to})
    return [(s, [e for e in events if e.stream_id == s and e.position <= up_to]) for s in touched]


@settings(max_examples=60, deadline=None)
@given(ops=st.lists(op, min_size=8, max_size=40), cuts=st.lists(st.floats(0, 1), max_size=3))
def test_snapshot_plus_tail_equals_a_full_replay(
    ops: list[tuple[Any, ...]], cuts: list[float]
) -> None:
    events = build(ops)
    positions = [*sorted({int(cut * len(events)) for cut in cuts}), len(events)]
    state: dict[str, Any] | None = None
    done = 0
    for position in positions:
        state = advance(state, streams_changed(events, done, position), position)
        # Every intermediate state is a snapshot: stored, loaded, then carried on from.
        state = decode_state(encode_state(state)[0])
        done = position
        known_at = events[position - 1].recorded_at if position else START - timedelta(days=2)
        replay = fold_global(events, known_at=known_at, with_history=False)
        assert canonical_json(state) == canonical_json(replay)


def test_a_diff_names_added_removed_and_changed_fields_by_path() -> None:
    old = {
        "organizations": {"a": {"name": "A"}, "gone": {"name": "G"}},
        "deals": {"d": {"status": "agreed", "total_invested": [usd("100")], "parties": {"x": 1}}},
    }
    new = json.loads(json.dumps(old))
    del new["organizations"]["gone"]
    new["organizations"]["fresh"] = {"name": "F"}
    new["deals"]["d"]["status"] = "completed"
    new["deals"]["d"]["total_invested"][0]["amount"] = "250"
    new["deals"]["d"]["total_invested"].append(usd("5"))
    new["deals"]["d"]["valuation"] = usd("9")

    diff = diff_states(old, new)

    assert diff["organizations"] == {"added": ["fresh"], "removed": ["gone"], "changed": []}
    assert diff["deals"]["added"] == [] and diff["deals"]["removed"] == []
    assert diff["deals"]["changed"] == [
        {
            "id": "d",
            "changes": [
                {"path": "status", "old": "agreed", "new": "completed"},
                {"path": "total_invested.0.amount", "old": "100", "new": "250"},
                {"path": "total_invested.1", "old": None, "new": usd("5")},
                {"path": "valuation", "old": None, "new": usd("9")},
            ],
        }
    ]
