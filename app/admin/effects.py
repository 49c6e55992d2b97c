"""What recording an event would change: the headline facts of a deal or organization, before and after."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from app.admin.display import field_value, money
from app.admin.fields import LABELS
from app.domain.envelope import NewEvent, RecordedEvent, stream_kind
from app.domain.fold import fold_deal, fold_organization


def effect(
    events: Sequence[RecordedEvent], stream_id: str, event: NewEvent
) -> list[tuple[str, str, str]]:
    """Return (what, before, after) for each headline fact the event would change."""
    now = datetime.now(UTC)
    last = events[-1] if events else None
    provisional = event.recorded_as(
        stream_id,
        position=(last.position if last else 0) + 1,
        version=(last.version if last else 0) + 1,
        recorded_at=max(now, last.recorded_at) if last else now,
    )
    before, after = headline(stream_id, events), headline(stream_id, [*events, provisional])
    return [
        (what, before.get(what, "—"), value)
        for what, value in after.items()
        if before.get(what, "—") != value
    ]


def headline(stream_id: str, events: Sequence[RecordedEvent]) -> dict[str, str]:
    """Return the facts a reader looks at first, as text, for a deal or an organization."""
    if not events:
        return {}
    if stream_kind(stream_id) == "org":
        state = fold_organization(events)
        facts = {"Name": state["name"] or "—", "Aliases": field_value("aliases", state["aliases"])}
        for metric, figure in state["figures"].items():
            facts[f"Latest {metric}"] = field_value("value", figure["latest"]["value"])
        return facts
    state = fold_deal(events)
    facts = {"Status": state.get("status") or "—"}
    if "total_invested" in state:
        facts["Total invested"] = money(state["total_invested"])
        facts["Pending reports"] = str(len(state["pending"]))
    for key in ("stake", "stake_cap", "valuation", "price"):
        fact = state.get(key)
        if isinstance(fact, Mapping):
            label = LABELS.get(key, key.replace("_", " ").capitalize())
            facts[label] = field_value(
                key + ("_percent" if "stake" in key else ""), fact.get("percent", fact.get("value"))
            )
    if state.get("kind") == "partnership":
        facts["Scope"] = field_value("scope", state.get("scope"))
        facts["Terms"] = field_value("terms", state.get("terms"))
    return facts
