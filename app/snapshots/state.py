"""The global state from a snapshot and the streams that changed after it (pure: no I/O).

An organization's state is its own stream folded, plus the deals it is party to; a deal's
state is its stream alone (histories left out, as in fold_global). So from a snapshot at
position P, the global state at a later position Q re-folds only the streams with events
in (P, Q], and re-relates the organizations those streams touch; the rest is the snapshot's.
"""

from __future__ import annotations

import json
import zlib
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from app.domain.envelope import RecordedEvent, stream_key, stream_kind
from app.domain.fold import fold_deal, fold_organization, relate_deals
from app.domain.fold_org import deal_parties

Streams = Iterable[tuple[str, Sequence[RecordedEvent]]]


def empty_state() -> dict[str, Any]:
    """Return the global state of an empty log."""
    return {"position": 0, "organizations": {}, "deals": {}}


def advance(base: Mapping[str, Any] | None, streams: Streams, position: int) -> dict[str, Any]:
    """Return the global state at `position`: `base` with each given stream (its events up to `position`) re-folded."""
    base = base or empty_state()
    organizations: dict[str, Any] = dict(base["organizations"])
    deals: dict[str, Any] = dict(base["deals"])
    own: dict[str, dict[str, Any]] = {}
    affected: set[str] = set()
    for stream_id, events in streams:
        if not events:
            continue
        key = stream_key(stream_id)
        if stream_kind(stream_id) == "deal":
            if key in deals:
                affected |= deal_parties(deals[key])
            deals[key] = fold_deal(events, with_history=False)
            affected |= deal_parties(deals[key])
        elif stream_kind(stream_id) == "org":
            own[key] = fold_organization(events, with_history=False)
            affected.add(key)
    deals_of: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for deal in deals.values():
        for org_id in deal_parties(deal) & affected:
            deals_of[org_id].append(deal)
    for org_id in affected:
        current = own.get(org_id, organizations.get(org_id))
        if current is None:  # a party that has no stream (yet): nothing to show
            continue
        state = dict(current)
        state.update(relate_deals(org_id, deals_of.get(org_id, [])))
        organizations[org_id] = state
    return {
        "position": position,
        "organizations": dict(sorted(organizations.items())),
        "deals": dict(sorted(deals.items())),
    }


def encode_state(state: Mapping[str, Any]) -> tuple[bytes, int]:
    """Return the state as compressed canonical JSON, and the size of that JSON in bytes."""
    raw = canonical_json(state).encode()
    return zlib.compress(raw, 6), len(raw)


def decode_state(stored: bytes) -> dict[str, Any]:
    """Return the state a snapshot stores."""
    state: dict[str, Any] = json.loads(zlib.decompress(stored))
    return state


def canonical_json(value: Any) -> str:
    """Return JSON with sorted keys and no spaces, so equal states give equal text."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
