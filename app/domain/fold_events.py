"""Rules 1-5 of folding: which events are in effect for a query, in what order, and the history."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any
from uuid import UUID

from app.domain.envelope import RecordedEvent, iso, utc
from app.domain.fold_common import plain

CORRECTED = "event.corrected"
RETRACTED = "event.retracted"
META_TYPES = frozenset({CORRECTED, RETRACTED})
CREATION_TYPES = frozenset({"deal.opened", "organization.registered"})

APPLIED = "applied"
CORRECTED_EFFECT = "corrected"
RETRACTED_EFFECT = "retracted"

# A correction may not rewrite who a deal is between, nor what a correction points at.
_PROTECTED_FIELDS = {
    "deal.opened": frozenset({"parties"}),
    CORRECTED: frozenset({"target_event_id"}),
}


@dataclass(frozen=True, slots=True)
class EffectiveEvent:
    """An event in effect for a query, with its data as corrected."""

    event: RecordedEvent
    data: Mapping[str, Any]
    corrections: tuple[RecordedEvent, ...] = ()

    @property
    def event_id(self) -> UUID:
        """Return the event's id."""
        return self.event.event_id

    @property
    def type(self) -> str:
        """Return the event's type."""
        return self.event.type

    @property
    def occurred_at(self) -> datetime:
        """Return the event's valid time (never changed by a correction)."""
        return self.event.occurred_at


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One event of a stream as known at `known_at`, with what became of it."""

    event: RecordedEvent
    effect: str
    corrected_by: tuple[UUID, ...] = ()
    retracted_by: UUID | None = None
    changes: Mapping[str, Any] | None = None
    replaced: Mapping[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the JSON-ready form."""
        event = self.event
        entry: dict[str, Any] = {
            "event_id": str(event.event_id),
            "position": event.position,
            "version": event.version,
            "type": event.type,
            "occurred_at": iso(event.occurred_at),
            "occurred_precision": event.occurred_precision,
            "recorded_at": iso(event.recorded_at),
            "effect": self.effect,
            "data": plain(event.data),
            "source": plain(event.source),
            "corrected_by": [str(i) for i in self.corrected_by],
            "retracted_by": None if self.retracted_by is None else str(self.retracted_by),
            "target_event_id": None,
            "reason": None,
            "changes": None,
            "replaced": None,
        }
        if event.type in META_TYPES:
            entry["target_event_id"] = event_key(event.data.get("target_event_id"))
            entry["reason"] = event.data.get("reason")
            entry["changes"] = plain(self.changes)
            entry["replaced"] = plain(self.replaced)
        return entry


@lru_cache(maxsize=1 << 17)
def _uuid_text(value: UUID) -> str:
    return str(value)


def event_key(value: Any) -> str:
    """Return the canonical string form of an event id (UUID or text)."""
    if isinstance(value, UUID):
        # Folds ask for the same ids many times; UUID.__str__ dominated replays.
        return _uuid_text(value)
    try:
        return str(UUID(str(value)))
    except ValueError:
        return str(value)


def known_events(events: Iterable[RecordedEvent], known_at: datetime | None) -> list[RecordedEvent]:
    """Return the events recorded at or before `known_at`, in position order (rule 1)."""
    # Keyed by position so an event delivered twice is still folded once.
    by_position = {event.position: event for event in events}
    ordered = [by_position[position] for position in sorted(by_position)]
    if known_at is None:
        return ordered
    limit = utc(known_at)
    return [event for event in ordered if event.recorded_at <= limit]


def retractions(known: list[RecordedEvent]) -> dict[str, UUID]:
    """Map each retracted event id to the retraction in effect against it (rule 2)."""
    retracted: dict[str, UUID] = {}
    # Newest first, so a retraction that is itself retracted never takes effect.
    for event in reversed(known):
        if event.type == RETRACTED and event_key(event.event_id) not in retracted:
            retracted[event_key(event.data.get("target_event_id"))] = event.event_id
    return retracted


class _Corrections:
    """Corrected data of each event (rule 3), resolved lazily so corrections may be corrected."""

    def __init__(self, known: list[RecordedEvent], retracted: Mapping[str, UUID]) -> None:
        self._keys: dict[int, str] = {}
        self._by_target: dict[str, list[RecordedEvent]] = defaultdict(list)
        for event in known:
            if event.type == CORRECTED and self.key(event) not in retracted:
                self._by_target[event_key(event.data.get("target_event_id"))].append(event)
        # Most streams correct nothing: their events' ids are then never needed as text.
        self._by_id = {self.key(event): event for event in known} if self._by_target else {}
        self._data: dict[str, dict[str, Any]] = {}
        self._replaced: dict[str, dict[str, Any]] = {}

    def key(self, event: RecordedEvent) -> str:
        """Return a known event's id in canonical text form, worked out once per event."""
        key = self._keys.get(event.position)
        if key is None:
            key = self._keys[event.position] = event_key(event.event_id)
        return key

    def of(self, event: RecordedEvent) -> tuple[RecordedEvent, ...]:
        """Return the corrections in effect against an event, in position order."""
        if not self._by_target:
            return ()
        return tuple(self._by_target.get(self.key(event), ()))

    def data(self, event: RecordedEvent) -> dict[str, Any]:
        """Return the event's data with every correction applied in position order."""
        if not self._by_target:
            return dict(event.data)
        key = self.key(event)
        if key not in self._data:
            merged = dict(event.data)
            protected = _PROTECTED_FIELDS.get(event.type, frozenset())
            for correction in self.of(event):
                changes = self.changes(correction)
                allowed = {k: v for k, v in changes.items() if k not in protected}
                self._replaced[self.key(correction)] = {k: merged.get(k) for k in allowed}
                merged.update(allowed)
            self._data[key] = merged
        return self._data[key]

    def changes(self, correction: RecordedEvent) -> dict[str, Any]:
        """Return the fields a correction replaces (as the correction itself stands corrected)."""
        return dict(self.data(correction).get("changes") or {})

    def replaced(self, correction: RecordedEvent) -> dict[str, Any] | None:
        """Return the values a correction replaced, or None if it is not in effect."""
        target = self._by_id.get(event_key(correction.data.get("target_event_id")))
        if target is not None:
            self.data(target)
        return self._replaced.get(self.key(correction))


def _fold_key(effective: EffectiveEvent) -> tuple[int, datetime, int]:
    """Order creation first, then by valid time, then by commit order (rule 5)."""
    event = effective.event
    creation = 0 if event.type in CREATION_TYPES else 1
    return (creation, event.occurred_at, event.position)


def _history(
    event: RecordedEvent, retracted: Mapping[str, UUID], corrections: _Corrections
) -> HistoryEntry:
    """Describe what became of one known event."""
    retracted_by = retracted.get(corrections.key(event))
    corrected_by = tuple(c.event_id for c in corrections.of(event))
    if retracted_by is not None:
        effect = RETRACTED_EFFECT
    elif corrected_by:
        effect = CORRECTED_EFFECT
    else:
        effect = APPLIED
    changes = replaced = None
    if event.type == CORRECTED:
        changes = corrections.changes(event)
        replaced = None if retracted_by else corrections.replaced(event)
    return HistoryEntry(event, effect, corrected_by, retracted_by, changes, replaced)


def effective_events(
    events: Iterable[RecordedEvent],
    *,
    as_of: datetime | None = None,
    known_at: datetime | None = None,
) -> tuple[list[EffectiveEvent], list[HistoryEntry]]:
    """Return the events in effect in fold order, and the stream's history known at `known_at`."""
    effective, history, _ = fold_inputs(events, as_of=as_of, known_at=known_at)
    return effective, history


def fold_inputs(
    events: Iterable[RecordedEvent],
    *,
    as_of: datetime | None = None,
    known_at: datetime | None = None,
    with_history: bool = True,
) -> tuple[list[EffectiveEvent], list[HistoryEntry], list[RecordedEvent]]:
    """Return the effective events, the history (empty unless asked for) and the known events."""
    known = known_events(events, known_at)
    retracted = retractions(known)
    corrections = _Corrections(known, retracted)
    limit = None if as_of is None else utc(as_of)
    effective = [
        EffectiveEvent(event, corrections.data(event), corrections.of(event))
        for event in known
        if event.type not in META_TYPES
        and not (retracted and corrections.key(event) in retracted)
        # The creating event names the stream, so it stays whatever `as_of` asks.
        and (limit is None or event.type in CREATION_TYPES or event.occurred_at <= limit)
    ]
    effective.sort(key=_fold_key)
    # Describing every event's fate is a fifth of a fold; states stored without history skip it.
    history = [_history(event, retracted, corrections) for event in known] if with_history else []
    return effective, history, known
