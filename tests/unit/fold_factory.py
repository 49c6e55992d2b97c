"""Build recorded events for fold tests: random ids, positions and versions in append order."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from app.domain.envelope import RecordedEvent


def at(text: str) -> datetime:
    """Return an aware UTC datetime; a bare date means 09:00Z that day."""
    moment = datetime.fromisoformat(text if "T" in text else f"{text}T09:00")
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def usd(amount: str) -> dict[str, str]:
    """Return Money's wire form in US dollars."""
    return {"amount": amount, "currency": "USD"}


def source(
    attribution: str = "official", publisher: str = "Daily Wire Service", **extra: Any
) -> dict[str, Any]:
    """Return a source; distinct publishers make distinct sources."""
    url = f"https://news.example/{uuid.uuid4().hex[:8]}"
    return {
        "publisher": publisher,
        "url": url,
        "title": "Report",
        "attribution": attribution,
        **extra,
    }


class Log:
    """An append-only log that numbers events like the store does."""

    def __init__(self) -> None:
        self.events: list[RecordedEvent] = []
        self._versions: Counter[str] = Counter()

    def append(
        self,
        stream_id: str,
        type_: str,
        data: dict[str, Any],
        *,
        recorded: str | datetime,
        occurred: str | datetime | None = None,
        precision: str = "instant",
        src: dict[str, Any] | None = None,
    ) -> RecordedEvent:
        """Append one event; occurred_at defaults to recorded_at."""
        recorded_at = at(recorded) if isinstance(recorded, str) else recorded
        occurred_at = at(occurred) if isinstance(occurred, str) else occurred
        self._versions[stream_id] += 1
        event = RecordedEvent(
            position=len(self.events) + 1,
            event_id=uuid.uuid4(),
            stream_id=stream_id,
            version=self._versions[stream_id],
            type=type_,
            schema_version=1,
            data=data,
            source=src,
            metadata={"actor": "test"},
            occurred_at=occurred_at or recorded_at,
            occurred_precision=precision,
            recorded_at=recorded_at,
        )
        self.events.append(event)
        return event

    def register(
        self, org_id: str, name: str, *, recorded: str = "2023-01-01", **data: Any
    ) -> RecordedEvent:
        """Register an organization."""
        payload = {"name": name, "kind": "company", **data}
        return self.append(f"org:{org_id}", "organization.registered", payload, recorded=recorded)

    def open_deal(
        self, deal_id: str, kind: str, parties: dict[str, Any], *, recorded: str, **kw: Any
    ) -> RecordedEvent:
        """Open a deal stream."""
        data = {"kind": kind, "title": deal_id.replace("-", " ").title(), "parties": parties}
        return self.append(
            f"deal:{deal_id}", "deal.opened", data, recorded=recorded, src=source(), **kw
        )

    def invest(
        self,
        deal_id: str,
        status: str,
        *,
        recorded: str | datetime,
        occurred: str | datetime | None = None,
        amount: str | None = None,
        basis: str = "tranche",
        attribution: str = "official",
        precision: str = "day",
        **data: Any,
    ) -> RecordedEvent:
        """Report an investment; amount in USD."""
        payload: dict[str, Any] = {"status": status, "amount_basis": basis, **data}
        if amount is not None:
            payload["amount"] = usd(amount)
        return self.append(
            f"deal:{deal_id}",
            "investment.reported",
            payload,
            recorded=recorded,
            occurred=occurred,
            precision=precision,
            src=source(attribution),
        )

    def correct(
        self, target: RecordedEvent, changes: dict[str, Any], *, recorded: str | datetime
    ) -> RecordedEvent:
        """Correct a target event in its own stream; occurred_at is the recorded time."""
        data = {"target_event_id": str(target.event_id), "changes": changes, "reason": "misread"}
        return self.append(
            target.stream_id, "event.corrected", data, recorded=recorded, src=source()
        )

    def retract(self, target: RecordedEvent, *, recorded: str | datetime) -> RecordedEvent:
        """Retract a target event in its own stream."""
        data = {"target_event_id": str(target.event_id), "reason": "wrong"}
        return self.append(
            target.stream_id, "event.retracted", data, recorded=recorded, src=source()
        )

    def stream(self, stream_id: str) -> list[RecordedEvent]:
        """Return one stream's events."""
        return [event for event in self.events if event.stream_id == stream_id]


def worked_example() -> tuple[Log, dict[str, RecordedEvent]]:
    """Build the spec's worked example; e7 (the retraction) is left to the tests that need it."""
    log = Log()
    log.register("helix-cloud", "Helix Cloud")
    log.register("nova-labs", "Nova Labs", aliases=["노바랩스", "Nova"])
    parties = {"investor": "helix-cloud", "investee": "nova-labs"}
    e0 = log.open_deal("helix-nova", "investment", parties, recorded="2024-01-05T08:00")
    deal = "helix-nova"
    e1 = log.invest(
        deal,
        "completed",
        recorded="2024-01-05",
        occurred="2023-09-25",
        amount="1250000000",
        instrument="convertible_note",
    )
    e2 = log.invest(
        deal,
        "completed",
        recorded="2024-04-01",
        occurred="2024-03-27",
        amount="2750000000",
        instrument="convertible_note",
    )
    e3 = log.invest(
        deal,
        "completed",
        recorded="2024-11-25",
        occurred="2024-11-22",
        amount="4000000000",
        instrument="equity",
    )
    e4 = log.invest(
        deal,
        "considering",
        recorded="2025-01-11",
        occurred="2025-01-10",
        attribution="anonymous_sources",
    )
    e5 = log.correct(e2, {"amount": usd("2500000000")}, recorded="2025-01-20")
    e6 = log.invest(
        deal,
        "completed",
        recorded="2025-01-21",
        occurred="2024-06-01",
        amount="4000000000",
        basis="cumulative",
    )
    events = {"e0": e0, "e1": e1, "e2": e2, "e3": e3, "e4": e4, "e5": e5, "e6": e6}
    return log, events
