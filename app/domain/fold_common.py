"""Pieces shared by the folds: JSON-ready values, reported facts, sources, conflicts, warnings."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

from app.domain.envelope import iso, utc
from app.domain.money import Money, format_decimal

if TYPE_CHECKING:
    from app.domain.fold_events import EffectiveEvent

PRECISION_RANK = {"instant": 0, "day": 1, "month": 2, "year": 3}
_PERIOD_FORMAT = {"day": "%Y-%m-%d", "month": "%Y-%m", "year": "%Y"}
_PERIOD_FIELDS = {"year": 1, "month": 2, "day": 3}  # (year, month, day)[:n] names the period
_JSON_SCALARS = frozenset({str, int, float, bool, type(None)})


def plain(value: Any) -> Any:
    """Return a JSON-ready copy: dicts, lists, strings, numbers, booleans and None only."""
    # Decoded JSON is nearly all a fold copies: its scalars are copied without a call each.
    if type(value) in _JSON_SCALARS:
        return value
    if type(value) is dict:
        return {
            str(key): item if type(item) in _JSON_SCALARS else plain(item)
            for key, item in value.items()
        }
    if type(value) is list:
        return [item if type(item) in _JSON_SCALARS else plain(item) for item in value]
    if value is None or isinstance(value, str | int | float):
        return value
    if isinstance(value, dict | Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, set | frozenset):
        return sorted(plain(item) for item in value)
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, Decimal):
        return format_decimal(value)
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, Money):
        return value.to_json()
    return value


def decimal_text(value: Any) -> str:
    """Return a decimal (string, int or Decimal) in canonical decimal-string form."""
    return format_decimal(Decimal(str(value)))


def to_money(value: Any) -> Money:
    """Return Money from its wire form (or Money itself)."""
    return value if isinstance(value, Money) else Money.from_json(value)


def money_json(value: Any) -> dict[str, str]:
    """Return Money's wire form in canonical shape."""
    return to_money(value).to_json()


def figure_value(value: Any) -> Any:
    """Return a figure's value: Money's wire form, or a decimal string."""
    if isinstance(value, Mapping | Money):
        return money_json(value)
    return decimal_text(value)


def source_of(effective: EffectiveEvent) -> dict[str, Any] | None:
    """Return the source an event was reported by, JSON-ready."""
    source = effective.event.source
    return None if source is None else plain(source)


def attribution_of(effective: EffectiveEvent) -> str | None:
    """Return the attribution of an event's source."""
    source = effective.event.source
    return None if source is None else source.get("attribution")


def fact(effective: EffectiveEvent, name: str, value: Any) -> dict[str, Any]:
    """Return a reported value with when it held and who reported it."""
    return {
        name: value,
        "occurred_at": iso(effective.occurred_at),
        "occurred_precision": effective.event.occurred_precision,
        "event_id": str(effective.event_id),
        "status": effective.data.get("status"),
        "source": source_of(effective),
        "attribution": attribution_of(effective),
    }


def latest_fact(
    reports: Sequence[EffectiveEvent], field: str, name: str, convert: Any
) -> dict[str, Any] | None:
    """Return the last report in fold order that gives `field`, as a fact named `name`."""
    for report in reversed(reports):
        if report.data.get(field) is not None:
            return fact(report, name, convert(report.data[field]))
    return None


def warning(code: str, message: str, event_id: UUID | None = None) -> dict[str, Any]:
    """Return a warning in its JSON-ready form."""
    return {
        "code": code,
        "message": message,
        "event_id": None if event_id is None else str(event_id),
    }


def occurred_after_recorded(effective: Iterable[EffectiveEvent]) -> list[dict[str, Any]]:
    """Warn about events said to have happened after they were recorded."""
    return [
        warning(
            "occurred_after_recorded",
            f"occurred at {iso(e.occurred_at)}, after it was recorded at {iso(e.event.recorded_at)}",
            e.event_id,
        )
        for e in effective
        if e.occurred_at > e.event.recorded_at
    ]


def _source_key(source: Mapping[str, Any]) -> tuple[str, str, str]:
    get = source.get
    return str(get("publisher") or ""), str(get("url") or ""), str(get("title") or "")


def collect_sources(effective: Iterable[EffectiveEvent]) -> list[dict[str, Any]]:
    """Return every distinct (publisher, url, title) that contributed, with the events it backs."""
    found: dict[tuple[str, str, str], dict[str, Any]] = {}
    for item in effective:
        for event in (item.event, *item.corrections):
            if event.source is None:
                continue
            key = _source_key(event.source)
            entry = found.get(key)
            if entry is None:
                # Copied once per distinct source, not once per event that cites it.
                entry = found[key] = plain(event.source)
                entry["event_ids"] = []
            entry["event_ids"].append(str(event.event_id))
    return [found[key] for key in sorted(found)]


@dataclass(frozen=True, slots=True)
class Candidate:
    """One report's value for a fact that sources may disagree about."""

    report: EffectiveEvent
    value: Any
    compare: Decimal
    scope: tuple[Any, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """Return the value with the report that gave it."""
        entry = fact(self.report, "value", self.value)
        entry.pop("status")
        return entry


def period_of(moment: datetime, precision: str) -> str:
    """Return the period a moment falls in at a precision: '2024-06' for month, and so on."""
    text_format = _PERIOD_FORMAT.get(precision)
    return utc(moment).strftime(text_format) if text_format else str(iso(moment))


def _precision(candidate: Candidate) -> str:
    precision = candidate.report.event.occurred_precision
    return precision if precision in PRECISION_RANK else "instant"


def _period_groups(candidates: Sequence[Candidate]) -> list[list[Candidate]]:
    """Group candidates of one scope whose periods meet at the coarser of their precisions."""
    root = list(range(len(candidates)))

    def find(i: int) -> int:
        while root[i] != i:
            root[i] = root[root[i]]
            i = root[i]
        return i

    moments = [utc(candidate.report.occurred_at) for candidate in candidates]
    precisions = [_precision(candidate) for candidate in candidates]

    def period(i: int, precision: str) -> tuple[Any, ...]:
        # The period period_of names, as a tuple of date fields: far cheaper than formatting.
        moment = moments[i]
        fields = _PERIOD_FIELDS.get(precision)
        when = moment if fields is None else (moment.year, moment.month, moment.day)[:fields]
        return (candidates[i].scope, precision, when)

    # Two reports share a period when the finer one, truncated to the coarser one's precision,
    # lands in the coarser one's own period; indexing own periods keeps this linear.
    owner: dict[tuple[Any, ...], int] = {}
    for i, precision in enumerate(precisions):
        root[find(i)] = find(owner.setdefault(period(i, precision), i))
    for i, own_precision in enumerate(precisions):
        own_rank = PRECISION_RANK[own_precision]
        for precision, rank in PRECISION_RANK.items():
            if rank > own_rank and (key := period(i, precision)) in owner:
                root[find(i)] = find(owner[key])
    groups: dict[int, list[Candidate]] = {}
    for i, candidate in enumerate(candidates):
        groups.setdefault(find(i), []).append(candidate)
    return list(groups.values())


def find_conflicts(field: str, candidates: Sequence[Candidate]) -> list[dict[str, Any]]:
    """Return every period in which reports (given in fold order) disagree about `field`."""
    conflicts = []
    for group in _period_groups(candidates):
        if len({c.compare for c in group}) < 2:
            continue
        chosen = group[-1]
        precision = max((_precision(c) for c in group), key=PRECISION_RANK.__getitem__)
        conflicts.append(
            {
                "field": field,
                "period": period_of(chosen.report.occurred_at, precision),
                "precision": precision,
                "chosen": chosen.to_json(),
                "values": [c.to_json() for c in group],
            }
        )
    return conflicts
