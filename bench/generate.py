"""A realistic event mix, valid by the domain's own checks.

Organizations with Korean aliases, figures and announcements; investment, partnership
and acquisition deals with tranches, cumulative totals, rumours, corrections and
retractions; payloads of a few hundred bytes. Everything is derived from a seed, so a
run is reproducible, and streams are produced lazily, so a million events never sit in
memory at once.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from app.domain.envelope import NewEvent, RecordedEvent, stream_key
from app.domain.events import check_against_stream, normalize_new_event

Item = tuple[str, NewEvent]

EN_WORDS = [
    "Helix",
    "Nova",
    "Aurora",
    "Pacific",
    "Hanbit",
    "Orion",
    "Cobalt",
    "Meridian",
    "Summit",
    "Vertex",
    "Lumen",
    "Polaris",
    "Crest",
    "Harbor",
    "Quantum",
    "Solace",
    "Tidal",
    "Ember",
    "Atlas",
    "Zenith",
    "Granite",
    "Silver",
    "Northwind",
    "Kestrel",
]
KO_WORDS = [
    "헬릭스",
    "노바",
    "오로라",
    "퍼시픽",
    "한빛",
    "오리온",
    "코발트",
    "메리디안",
    "서밋",
    "버텍스",
    "루멘",
    "폴라리스",
]
KO_WORDS += [
    "크레스트",
    "하버",
    "퀀텀",
    "솔라스",
    "타이달",
    "엠버",
    "아틀라스",
    "제니스",
    "그래닛",
    "실버",
    "노스윈드",
    "케스트렐",
]
SUFFIXES = (
    ("Semiconductor", "반도체", "company"),
    ("Bio", "바이오", "company"),
    ("Capital", "캐피탈", "investor"),
    ("Energy", "에너지", "company"),
    ("Mobility", "모빌리티", "company"),
    ("Cloud", "클라우드", "company"),
    ("Robotics", "로보틱스", "company"),
    ("Ventures", "벤처스", "investor"),
    ("Labs", "랩스", "company"),
    ("Holdings", "홀딩스", "company"),
)
PUBLISHERS = (
    ("Seoul Wire", "en"),
    ("Korea Tech Herald", "en"),
    ("연합경제", "ko"),
    ("매일테크", "ko"),
    ("The Daily Ledger", "en"),
    ("Energy Weekly", "en"),
    ("한국경제신문", "ko"),
    ("Market Whispers", "en"),
)
ATTRIBUTIONS = ("official", "confirmed", "reported", "anonymous_sources", "rumor")
INSTRUMENTS = ("equity", "convertible_note", "debt", "mixed")
SCOPES = ("compute", "cloud", "chips", "datacenter", "distribution", "research")
COUNTRIES = ("KR", "US", "SG", "JP", "DE", "GB")
START = datetime(2015, 1, 1, tzinfo=UTC)
METADATA = {"actor": "bench", "client": "dealtracker bench generator"}
AMENDABLE = frozenset(
    {
        "investment.reported",
        "partnership.reported",
        "acquisition.reported",
        "organization.figure_reported",
    }
)


@dataclass
class _Stream:
    """What the generator remembers of one stream: enough to write valid next events."""

    stream_id: str
    kind: str
    day: datetime
    opened: RecordedEvent | None = None
    reports: list[RecordedEvent] = field(default_factory=list)
    tranches_usd: int = 0
    length: int = 0


class EventMix:
    """Produces valid (stream id, event) pairs: organizations first, then deals that refer to them."""

    def __init__(self, seed: int = 7, *, validate: bool = True) -> None:
        self.random = random.Random(seed)
        self.validate = validate
        self.registered: set[str] = set()
        self.org_ids: list[str] = []
        self.deal_ids: list[tuple[str, str]] = []  # (deal id, kind)
        self._serial = 0

    def others(self, count: int) -> Iterator[Item]:
        """Yield `count` events of many organizations and deals, interleaved as news arrives."""
        r, active, emitted = self.random, list[tuple[_Stream, int]](), 0
        while emitted < count:
            roll = r.random()
            if len(self.org_ids) < 4 or roll < 0.05:
                batch = list(self.organization())
            elif not active or roll < 0.12:
                stream, item = self.open_deal()
                active.append((stream, min(300, int(r.paretovariate(1.3) * 3))))
                if len(active) > 2000:
                    active.pop(0)
                batch = [item]
            else:
                index = r.randrange(len(active))
                stream, target = active[index]
                batch = [self.deal_event(stream)]
                if stream.length >= target:
                    active[index] = active[-1]
                    active.pop()
            for item in batch[: count - emitted]:
                yield item
            emitted += len(batch)

    def subject(self, deal_id: str, size: int) -> Iterator[Item]:
        """Yield one investment deal of exactly `size` events (a long-running story)."""
        stream, item = self.open_deal("investment", deal_id)
        yield item
        for _ in range(size - 1):
            yield self.deal_event(stream)

    # --- organizations ----------------------------------------------------------------

    def organization(self) -> Iterator[Item]:
        """Register a new organization, with a Korean alias, then a few org events."""
        r, self._serial = self.random, self._serial + 1
        word, suffix = r.randrange(len(EN_WORDS)), r.choice(SUFFIXES)
        name = f"{EN_WORDS[word]} {suffix[0]} {self._serial}"
        org_id = f"org-{self._serial}-{EN_WORDS[word].lower()}"
        stream = _Stream(f"org:{org_id}", suffix[2], _day(r, START, 3000))
        aliases = [f"{KO_WORDS[word]}{suffix[1]}", f"{EN_WORDS[word]} {self._serial}"]
        yield self._emit(
            stream,
            "organization.registered",
            {
                "name": name,
                "kind": suffix[2],
                "country": r.choice(COUNTRIES),
                "website": f"https://{org_id}.example",
                "aliases": aliases,
            },
            source=None,
        )
        self.registered.add(org_id)
        self.org_ids.append(org_id)
        for _ in range(r.choice((0, 1, 1, 2, 3))):
            yield self._org_event(stream)

    def _org_event(self, stream: _Stream) -> Item:
        r = self.random
        stream.day = _day(r, stream.day, 200)
        roll = r.random()
        if roll < 0.1 and stream.reports:
            target = r.choice(stream.reports)
            changes = {"value": _krw(r)[0]}
            return self._amend(stream, target, changes, source=None)
        if roll < 0.25:
            data = {"alias": f"{r.choice(KO_WORDS)}{r.choice(SUFFIXES)[1]}", "language": "ko"}
            return self._emit(stream, "organization.alias_added", data, source=None)
        if roll < 0.7:
            money, text = _krw(r)
            data = {"metric": r.choice(("valuation", "annual_revenue")), "value": money}
            if r.random() < 0.5:
                data["value_text"] = text
            return self._emit(stream, "organization.figure_reported", data, self._source(stream))
        capex, capex_text = _krw(r)
        data = {
            "headline": f"{stream_key(stream.stream_id)} 신규 투자 계획 발표: {capex_text} 규모",
            "summary": "회사는 향후 3년간 연구개발과 생산 설비에 투자한다고 밝혔다.",
            "figures": [{"metric": "capex", "value": capex}],
        }
        return self._emit(stream, "organization.announced", data, self._source(stream))

    # --- deals ------------------------------------------------------------------------

    def open_deal(
        self, kind: str | None = None, deal_id: str | None = None
    ) -> tuple[_Stream, Item]:
        """Open a deal between registered organizations; return its stream and the event."""
        r = self.random
        kind = kind or r.choices(("investment", "partnership", "acquisition"), (6, 3, 1))[0]
        first, second = r.sample(self.org_ids, 2)
        self._serial += 1
        deal_id = deal_id or f"deal-{self._serial}-{kind[:3]}"
        stream = _Stream(f"deal:{deal_id}", kind, _day(r, START, 3000))
        if kind == "partnership":
            parties: dict[str, Any] = {"members": [first, second]}
            title = f"{first} and {second} partner on {r.choice(SCOPES)}"
        elif kind == "investment":
            parties = {"investor": first, "investee": second}
            title = f"{first} invests in {second}"
        else:
            parties = {"acquirer": first, "target": second}
            title = f"{first} to acquire {second}"
        data = {"kind": kind, "title": title, "parties": parties}
        item = self._emit(stream, "deal.opened", data, self._source(stream))
        self.deal_ids.append((deal_id, kind))
        return stream, item

    def deal_event(self, stream: _Stream) -> Item:
        """Report the next thing the press says about a deal (or amend an earlier report)."""
        r = self.random
        stream.day = _day(r, stream.day, 30)
        roll = r.random()
        live = stream.reports
        if roll < 0.05 and live:
            return self._correct_report(stream, r.choice(live))
        if roll < 0.07 and len(live) > 1:
            target = live[r.randrange(len(live) - 1)]
            return self._amend(stream, target, None, self._source(stream))
        return self._report(stream)

    def _report(self, stream: _Stream) -> Item:
        r = self.random
        if stream.kind == "investment":
            return self._emit(
                stream, "investment.reported", self._investment(stream), self._source(stream)
            )
        if stream.kind == "partnership":
            data = {
                "status": r.choice(("rumored", "in_talks", "announced", "active")),
                "name": f"Project {r.choice(EN_WORDS)}",
                "scope": sorted(r.sample(SCOPES, 2)),
                "terms": {
                    "power_gw": f"{r.randint(1, 40) / 10}",
                    "location": r.choice(("Oregon", "평택", "Osaka")),
                },
            }
            return self._emit(stream, "partnership.reported", data, self._source(stream))
        data = {
            "status": r.choice(("rumored", "in_talks", "agreed", "completed")),
            "stake_percent": str(r.randint(10, 100)),
        }
        if r.random() < 0.7:
            data["price"], data["price_text"] = _usd(r)
        return self._emit(stream, "acquisition.reported", data, self._source(stream))

    def _investment(self, stream: _Stream) -> dict[str, Any]:
        r = self.random
        roll = r.random()
        if roll < 0.15:
            return {
                "status": r.choice(("rumored", "considering", "in_talks")),
                "amount_basis": "tranche",
                "note": "people familiar with the matter say talks continue",
            }
        money, text = _usd(r)
        data: dict[str, Any] = {
            "status": "completed",
            "amount": money,
            "instrument": r.choice(INSTRUMENTS),
        }
        if roll < 0.25 and stream.tranches_usd:
            total = stream.tranches_usd + int(money["amount"])
            data.update(
                amount={"amount": str(total), "currency": "USD"},
                amount_basis="cumulative",
                note="total invested to date",
            )
        else:
            data.update(amount_basis="tranche", amount_text=text)
            stream.tranches_usd += int(money["amount"])
        if r.random() < 0.3:
            data["stake_percent"] = f"{r.randint(1, 19)}.{r.randint(0, 9)}"
            data["stake_cap_percent"] = "20"
        if r.random() < 0.2:
            data["valuation"] = {"amount": str(r.randint(5, 90) * 10**9), "currency": "USD"}
        return data

    def _correct_report(self, stream: _Stream, target: RecordedEvent) -> Item:
        r = self.random
        if target.type == "partnership.reported":
            changes: dict[str, Any] = {"terms": {"power_gw": f"{r.randint(1, 40) / 10}"}}
        elif target.type == "acquisition.reported":
            changes = {"price": _usd(r)[0]}
        elif "amount" in target.data:
            changes = {"amount": _usd(r)[0]}
        else:
            changes = {"note": "the article was updated: talks have stalled"}
        return self._amend(stream, target, changes, self._source(stream))

    # --- envelopes --------------------------------------------------------------------

    def _amend(
        self,
        stream: _Stream,
        target: RecordedEvent,
        changes: dict[str, Any] | None,
        source: dict[str, Any] | None,
    ) -> Item:
        """Correct (changes) or retract (None) a live report of the stream."""
        if changes is None:
            data = {
                "target_event_id": str(target.event_id),
                "reason": "the outlet retracted the story",
            }
            stream.reports.remove(target)
            return self._emit(stream, "event.retracted", data, source, target=target)
        data = {
            "target_event_id": str(target.event_id),
            "changes": changes,
            "reason": "figure corrected in a follow-up article",
        }
        return self._emit(stream, "event.corrected", data, source, target=target)

    def _source(self, stream: _Stream) -> dict[str, Any]:
        r = self.random
        publisher, language = r.choice(PUBLISHERS)
        day = stream.day.date().isoformat()
        return {
            "publisher": publisher,
            "title": f"{stream_key(stream.stream_id)}: {'새 소식' if language == 'ko' else 'new details'} {day}",
            "url": f"https://news.example/{uuid.UUID(int=r.getrandbits(128)).hex[:12]}",
            "published_at": day,
            "language": language,
            "attribution": r.choice(ATTRIBUTIONS),
        }

    def _emit(
        self,
        stream: _Stream,
        type_: str,
        data: dict[str, Any],
        source: dict[str, Any] | None,
        target: RecordedEvent | None = None,
    ) -> Item:
        event = NewEvent(
            type=type_,
            data=data,
            occurred_at=stream.day,
            occurred_precision="day",
            source=source,
            metadata=METADATA,
            event_id=uuid.UUID(int=self.random.getrandbits(128), version=4),
        )
        if self.validate:
            event = normalize_new_event(stream.stream_id, event)
            history = [target] if target is not None else [stream.opened] if stream.opened else []
            check_against_stream(stream.stream_id, event, history, self.registered)
        recorded = _recorded(stream.stream_id, event, stream.length + 1)
        stream.length += 1
        if stream.opened is None:
            stream.opened = recorded
        elif type_ in AMENDABLE:
            stream.reports.append(recorded)
            if len(stream.reports) > 50:  # amendments aim at recent reports; memory stays flat
                stream.reports.pop(0)
        return stream.stream_id, event


def _recorded(stream_id: str, event: NewEvent, version: int) -> RecordedEvent:
    """Stand in for an appended event, so later amendments can be checked against it."""
    assert event.occurred_at is not None and event.event_id is not None
    return RecordedEvent(
        0,
        event.event_id,
        stream_id,
        version,
        event.type,
        1,
        event.data,
        event.source,
        event.metadata,
        event.occurred_at,
        "day",
        event.occurred_at,
    )


def _day(r: random.Random, after: datetime, spread: int) -> datetime:
    return min(after + timedelta(days=r.randint(0, spread)), datetime(2026, 6, 1, tzinfo=UTC))


def _usd(r: random.Random) -> tuple[dict[str, str], str]:
    millions = r.choice((5, 20, 50, 120, 350, 750, 1250, 2750))
    text = f"${millions / 1000:g} billion" if millions >= 1000 else f"${millions} million"
    return {"amount": str(millions * 10**6), "currency": "USD"}, text


def _krw(r: random.Random) -> tuple[dict[str, str], str]:
    eok = r.choice((30, 120, 500, 3000, 12000))
    text = f"{eok // 10000}조{eok % 10000}억원" if eok >= 10000 else f"{eok}억원"
    return {"amount": str(eok * 10**8), "currency": "KRW"}, text.replace("조0억원", "조원")
