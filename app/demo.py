"""A demo dataset written for this project (fictional companies), loaded idempotently.

Every event has a fixed id derived from its name, so loading twice changes nothing:
the second load is acknowledged as a retry of the first.
"""

from __future__ import annotations

import argparse
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from app.config import Settings
from app.domain.envelope import NewEvent

NAMESPACE = uuid.UUID("6f1c3c1e-2a51-4c39-9a43-5d7d1b8e0d11")


def _id(name: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, name)


def _at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


def _src(
    publisher: str, attribution: str, title: str, day: str, language: str = "en"
) -> dict[str, Any]:
    return {
        "publisher": publisher,
        "title": title,
        "url": f"https://news.example/{_id(title).hex[:10]}",
        "published_at": day,
        "language": language,
        "attribution": attribution,
    }


def _org(name: str, slug: str, kind: str, day: str, **data: Any) -> tuple[str, NewEvent]:
    event = NewEvent(
        "organization.registered", {"name": name, "kind": kind, **data}, _at(day), "day"
    )
    return f"org:{slug}", _named(event, f"{slug}/registered")


def _named(event: NewEvent, name: str) -> NewEvent:
    return NewEvent(
        type=event.type,
        data=event.data,
        occurred_at=event.occurred_at,
        occurred_precision=event.occurred_precision,
        source=event.source,
        metadata={"actor": "demo", "client": "dealtracker demo load"},
        event_id=_id(name),
    )


def _deal(
    slug: str,
    name: str,
    day: str,
    data: dict[str, Any],
    source: dict[str, Any],
    precision: str = "day",
) -> tuple[str, NewEvent]:
    event = NewEvent(data.pop("type"), data, _at(day), precision, source)
    return f"deal:{slug}", _named(event, f"{slug}/{name}")


def demo_events() -> list[tuple[str, NewEvent]]:
    """Return the demo dataset as (stream id, event) pairs in the order they are appended."""
    wire = _src("Seoul Wire", "official", "Helix Cloud puts $1.25B into Nova Labs", "2023-09-26")
    herald = _src(
        "Korea Tech Herald",
        "confirmed",
        "노바랩스, 헬릭스클라우드서 27억5천만달러 추가 유치",
        "2024-03-28",
        "ko",
    )
    ledger = _src(
        "The Daily Ledger", "anonymous_sources", "Helix weighs another Nova round", "2025-01-11"
    )
    filing = _src(
        "Nova Labs filing", "official", "Annual report 2024: investors to date", "2025-01-21"
    )
    grid = _src(
        "Energy Weekly",
        "official",
        "Helix and Pacific Grid sign 2.2 GW data-centre pact",
        "2024-07-02",
    )
    rumor = _src("Market Whispers", "rumor", "Aurora said to eye Hanbit stake", "2025-03-03")
    events = [
        _org(
            "Helix Cloud",
            "helix-cloud",
            "company",
            "2012-05-01",
            country="US",
            website="https://helix.example",
            aliases=["헬릭스클라우드", "Helix"],
        ),
        _org(
            "Nova Labs",
            "nova-labs",
            "company",
            "2020-02-01",
            country="KR",
            aliases=["노바랩스", "Nova"],
        ),
        _org(
            "한빛반도체",
            "hanbit-semiconductor",
            "company",
            "1999-03-01",
            country="KR",
            aliases=["Hanbit Semiconductor", "Hanbit"],
        ),
        _org(
            "Aurora Capital",
            "aurora-capital",
            "investor",
            "2008-01-01",
            country="SG",
            aliases=["오로라캐피탈"],
        ),
        _org(
            "Pacific Grid Power",
            "pacific-grid",
            "company",
            "2001-06-01",
            country="US",
            aliases=["퍼시픽그리드"],
        ),
        (
            "org:nova-labs",
            _named(
                NewEvent(
                    "organization.figure_reported",
                    {"metric": "valuation", "value": {"amount": "18000000000", "currency": "USD"}},
                    _at("2024-03-27"),
                    "day",
                    herald,
                ),
                "nova-labs/valuation-2024",
            ),
        ),
        (
            "org:nova-labs",
            _named(
                NewEvent(
                    "organization.figure_reported",
                    {"metric": "headcount", "value": "420"},
                    _at("2024-12-01"),
                    "month",
                    filing,
                ),
                "nova-labs/headcount-2024",
            ),
        ),
        (
            "org:hanbit-semiconductor",
            _named(
                NewEvent(
                    "organization.announced",
                    {
                        "headline": "한빛반도체, 평택에 3조원 규모 신규 팹 건설 계획",
                        "figures": [
                            {
                                "metric": "capex",
                                "value": {"amount": "3000000000000", "currency": "KRW"},
                            }
                        ],
                    },
                    _at("2025-02-10"),
                    "day",
                    _src("연합경제", "official", "한빛반도체 신규 팹", "2025-02-10", "ko"),
                ),
                "hanbit/fab-plan",
            ),
        ),
        _deal(
            "helix-nova",
            "opened",
            "2023-09-25",
            {
                "type": "deal.opened",
                "kind": "investment",
                "title": "Helix Cloud invests in Nova Labs",
                "parties": {"investor": "helix-cloud", "investee": "nova-labs"},
            },
            wire,
        ),
        _deal(
            "helix-nova",
            "e1",
            "2023-09-25",
            {
                "type": "investment.reported",
                "status": "completed",
                "amount_basis": "tranche",
                "amount": {"amount": "1250000000", "currency": "USD"},
                "instrument": "convertible_note",
            },
            wire,
        ),
        _deal(
            "helix-nova",
            "e2",
            "2024-03-27",
            {
                "type": "investment.reported",
                "status": "completed",
                "amount_basis": "tranche",
                "amount": {"amount": "2750000000", "currency": "USD"},
                "amount_text": "27억5천만달러",
                "instrument": "convertible_note",
                "stake_percent": "12.5",
                "stake_cap_percent": "20",
            },
            herald,
        ),
        _deal(
            "helix-nova",
            "e3",
            "2024-11-22",
            {
                "type": "investment.reported",
                "status": "completed",
                "amount_basis": "tranche",
                "amount": {"amount": "4000000000", "currency": "USD"},
                "instrument": "equity",
                "valuation": {"amount": "40000000000", "currency": "USD"},
            },
            wire,
        ),
        _deal(
            "helix-nova",
            "e4",
            "2025-01-10",
            {
                "type": "investment.reported",
                "status": "considering",
                "amount_basis": "tranche",
                "note": "talks of a further round",
            },
            ledger,
        ),
        _deal(
            "helix-nova",
            "e5",
            "2025-01-20",
            {
                "type": "event.corrected",
                "target_event_id": str(_id("helix-nova/e2")),
                "changes": {"amount": {"amount": "2500000000", "currency": "USD"}},
                "reason": "the company filing gives 2.5B for the March tranche",
            },
            filing,
        ),
        _deal(
            "helix-nova",
            "e6",
            "2024-06-01",
            {
                "type": "investment.reported",
                "status": "completed",
                "amount_basis": "cumulative",
                "amount": {"amount": "4000000000", "currency": "USD"},
                "note": "total to date",
            },
            filing,
        ),
        _deal(
            "helix-pacific",
            "opened",
            "2024-07-01",
            {
                "type": "deal.opened",
                "kind": "partnership",
                "title": "Helix Cloud and Pacific Grid data-centre power",
                "parties": {"members": ["helix-cloud", "pacific-grid"]},
            },
            grid,
        ),
        _deal(
            "helix-pacific",
            "announced",
            "2024-07-01",
            {
                "type": "partnership.reported",
                "status": "announced",
                "name": "Project Tideline",
                "scope": ["datacenter", "compute"],
                "terms": {"power_gw": "2.2", "location": "Oregon"},
            },
            grid,
        ),
        _deal(
            "aurora-hanbit",
            "opened",
            "2025-03-01",
            {
                "type": "deal.opened",
                "kind": "investment",
                "title": "Aurora Capital stake in 한빛반도체",
                "parties": {"investor": "aurora-capital", "investee": "hanbit-semiconductor"},
            },
            rumor,
            "month",
        ),
        _deal(
            "aurora-hanbit",
            "rumor",
            "2025-03-01",
            {
                "type": "investment.reported",
                "status": "rumored",
                "amount_basis": "tranche",
                "amount": {"amount": "300000000000", "currency": "KRW"},
                "amount_text": "3000억원",
                "stake_percent": "4.9",
            },
            rumor,
            "month",
        ),
        _deal(
            "aurora-hanbit",
            "wrong-stake",
            "2025-03-01",
            {
                "type": "investment.reported",
                "status": "in_talks",
                "amount_basis": "tranche",
                "stake_percent": "49",
            },
            rumor,
            "month",
        ),
        _deal(
            "aurora-hanbit",
            "retraction",
            "2025-03-05",
            {
                "type": "event.retracted",
                "target_event_id": str(_id("aurora-hanbit/wrong-stake")),
                "reason": "entered 49% by mistake; the article says 4.9%",
            },
            rumor,
        ),
    ]
    return events


def load_demo(engine: Engine) -> int:
    """Append the demo dataset unless it is already there; return how many events were written."""
    from app.service import DealTracker
    from app.store.eventstore import EventStore

    tracker = DealTracker(EventStore(engine))
    result = tracker.append_batch([(stream_id, event, None) for stream_id, event in demo_events()])
    return len(result.events) if result.created else 0


def cmd_demo_load(args: argparse.Namespace, settings: Settings) -> int:
    """Load the demo dataset (a second load changes nothing)."""
    from app.store import migrate
    from app.store.database import make_engine, resolve_database_url

    engine = make_engine(resolve_database_url(settings), settings)
    migrate.upgrade(engine)
    written = load_demo(engine)
    print(
        f"demo dataset: {written} events written"
        if written
        else "demo dataset already loaded; nothing written"
    )
    return 0


def register_commands(sub: Any) -> None:
    """Add `dealtracker demo load`."""
    demo = sub.add_parser("demo", help="the demo dataset").add_subparsers(
        dest="demo", required=True
    )
    demo.add_parser("load", help="load the demo dataset").set_defaults(func=cmd_demo_load)
