"""State = fold(events, as_of, known_at): the one place derived state comes from.

The work lives in fold_events (rules 1-5), fold_deal and fold_org; this module is the
public face, and folds the whole log for snapshots.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from app.domain.envelope import RecordedEvent, stream_key
from app.domain.fold_deal import fold_deal, stale_warnings
from app.domain.fold_events import EffectiveEvent, HistoryEntry, effective_events, known_events
from app.domain.fold_org import deal_parties, fold_organization, organization_state, relate_deals

__all__ = [
    "FOLD_SCHEMA_VERSION",
    "EffectiveEvent",
    "HistoryEntry",
    "effective_events",
    "fold_deal",
    "fold_global",
    "fold_organization",
    "organization_state",
    "relate_deals",
    "stale_warnings",
]

# Bump whenever the shape of a folded state changes; snapshots record it.
FOLD_SCHEMA_VERSION = 1


def fold_global(
    events: Iterable[RecordedEvent],
    *,
    as_of: datetime | None = None,
    known_at: datetime | None = None,
    with_history: bool = False,
) -> dict[str, Any]:
    """Return every organization's and deal's state, and the last global position folded.

    Histories are left out unless asked for: the log is the history of a global state.
    """
    known = known_events(events, known_at)
    streams: dict[str, list[RecordedEvent]] = defaultdict(list)
    for event in known:
        streams[event.stream_id].append(event)
    deals = {
        stream_key(stream_id): fold_deal(
            stream, as_of=as_of, known_at=known_at, with_history=with_history
        )
        for stream_id, stream in sorted(streams.items())
        if stream_id.startswith("deal:")
    }
    # Index deals by party once, rather than scanning every deal for every organization.
    deals_of: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for state in deals.values():
        for org_id in deal_parties(state):
            deals_of[org_id].append(state)
    organizations = {
        stream_key(stream_id): organization_state(
            stream,
            deals_of.get(stream_key(stream_id), []),
            as_of=as_of,
            known_at=known_at,
            with_history=with_history,
        )
        for stream_id, stream in sorted(streams.items())
        if stream_id.startswith("org:")
    }
    return {
        "position": max((event.position for event in known), default=0),
        "organizations": organizations,
        "deals": deals,
    }
