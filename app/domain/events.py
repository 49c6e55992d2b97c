"""The catalogue of event types, and the checks an event must pass before it is appended."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any
from uuid import UUID

from app.domain.envelope import NewEvent, RecordedEvent, stream_kind
from app.domain.validation import (
    INVALID,
    LONG_TEXT,
    SHORT_TEXT,
    SLUG_RE,
    TEXT,
    Errors,
    Field,
    ValidationFailed,
    any_object,
    check_occurred_at,
    check_source,
    country,
    join,
    language,
    list_of,
    metric,
    money,
    money_or_decimal,
    money_pair,
    object_of,
    one_of,
    percent,
    show,
    slug,
    terms,
    text,
    url,
    uuid_text,
    validate_object,
)

__all__ = [
    "CREATION_TYPES",
    "CURRENT_SCHEMA_VERSIONS",
    "EVENT_TYPES",
    "SLUG_RE",
    "EventType",
    "ValidationFailed",
    "check_against_stream",
    "normalize_new_event",
    "referenced_orgs",
    "register_upcaster",
    "slugify",
    "unregister_upcaster",
    "upcast",
]

CORRECTED, RETRACTED = "event.corrected", "event.retracted"
CORRECTION_TYPES = frozenset({CORRECTED, RETRACTED})
CREATION_TYPES: Mapping[str, str] = MappingProxyType(
    {"org": "organization.registered", "deal": "deal.opened"}
)
ORG_KINDS = ("company", "investor", "government", "project", "other")
DEAL_KINDS = ("investment", "partnership", "acquisition")
KNOWN_METRICS = ("valuation", "annual_revenue", "market_cap", "headcount", "fair_value_of_stake")
PARTY_ROLES = {"investment": ("investor", "investee"), "acquisition": ("acquirer", "target")}
# Money fields that may be typed as text (X_text); a figure's `value` may also be a bare number.
MONEY_FIELDS = {"amount": money, "valuation": money, "price": money, "value": money_or_decimal}

DataRule = Callable[[Mapping[str, Any], dict[str, Any], str, Errors], None]


@dataclass(frozen=True, slots=True)
class EventType:
    """One kind of event: its name, the streams it belongs to, and the fields of its data."""

    name: str
    stream_kinds: frozenset[str]
    fields: Mapping[str, Field]
    rule: DataRule | None = None

    def validate_data(self, data: Any, errors: Errors, path: str = "data") -> dict[str, Any]:
        """Check `data` against this type, recording problems; return the normalized data."""
        if not isinstance(data, Mapping):
            errors.add(path, "must be an object")
            return {}
        result = validate_object(data, self.fields, path, errors)
        if self.rule is not None:
            self.rule(data, result, path, errors)
        return result


def _parties_rule(
    raw: Mapping[str, Any], result: dict[str, Any], path: str, errors: Errors
) -> None:
    """Check deal.opened parties against the deal's kind."""
    parties, kind, where = result.get("parties"), result.get("kind"), join(path, "parties")
    if parties is None or kind is None:
        return
    if kind == "partnership":
        members = parties.get("members")
        if isinstance(members, list):
            for index, member in enumerate(members):
                if member in members[:index]:
                    errors.add(join(where, f"members.{index}"), f"{show(member)} is listed twice")
        fields = {"members": Field(list_of(slug, max_items=100, min_items=2), required=True)}
        result["parties"] = validate_object(parties, fields, where, errors)
        return
    first, second = PARTY_ROLES[kind]
    fields = {first: Field(slug, required=True), second: Field(slug, required=True)}
    checked = result["parties"] = validate_object(parties, fields, where, errors)
    if checked.get(first) is not None and checked.get(first) == checked.get(second):
        errors.add(join(where, second), f"must differ from the {first}")


def _amount_basis_rule(
    raw: Mapping[str, Any], result: dict[str, Any], path: str, errors: Errors
) -> None:
    """Require amount_basis whenever an amount is reported: the fold cannot guess it."""
    if "amount" in result and "amount_basis" not in result and raw.get("amount_basis") is None:
        errors.add(join(path, "amount_basis"), "required with an amount: tranche or cumulative")


def _changes(value: Any, path: str, errors: Errors) -> Any:
    """Check a correction's changes; parse typed amounts now, the rest against the target later."""
    if not isinstance(value, Mapping) or not value:
        errors.add(path, 'must name the fields to change, e.g. {"amount": …}')
        return INVALID
    result = dict(value)
    for name, check in MONEY_FIELDS.items():
        if value.get(name) is None and value.get(f"{name}_text") is None:
            continue
        result.update(money_pair(value, name, Field(check, money_text=True), path, errors))
        # A new amount replaces the wording of the old one, so a plain merge stays consistent.
        result.setdefault(f"{name}_text", None)
    if value.get("figures") is not None:
        figures = _FIGURES(value["figures"], join(path, "figures"), errors)
        if figures is not INVALID:
            result["figures"] = figures
    return result


_ORG, _DEAL = frozenset({"org"}), frozenset({"deal"})
_FIGURES = list_of(
    object_of(
        {
            "metric": Field(metric, required=True),
            "value": Field(money_or_decimal, required=True, money_text=True),
            "unit": Field(text(100)),
        }
    ),
    max_items=50,
)
_STATUS = {
    "investment": ("rumored", "considering", "in_talks", "agreed", "completed", "called_off"),
    "partnership": ("rumored", "in_talks", "announced", "active", "ended"),
    "acquisition": ("rumored", "in_talks", "agreed", "completed", "blocked", "called_off"),
}
_SCOPES = ("compute", "cloud", "chips", "datacenter", "distribution", "research", "other")
_INSTRUMENTS = ("equity", "convertible_note", "debt", "credits", "mixed", "unknown")
_TARGET = Field(uuid_text, required=True)
_REASON = Field(text(TEXT), required=True)

EVENT_TYPES: Mapping[str, EventType] = MappingProxyType(
    {
        t.name: t
        for t in (
            EventType(
                "organization.registered",
                _ORG,
                {
                    "name": Field(text(SHORT_TEXT), required=True),
                    "kind": Field(one_of(*ORG_KINDS), required=True),
                    "country": Field(country),
                    "website": Field(url),
                    "aliases": Field(list_of(text(SHORT_TEXT))),
                },
            ),
            EventType(
                "organization.renamed", _ORG, {"name": Field(text(SHORT_TEXT), required=True)}
            ),
            EventType(
                "organization.alias_added",
                _ORG,
                {"alias": Field(text(SHORT_TEXT), required=True), "language": Field(language)},
            ),
            EventType(
                "organization.figure_reported",
                _ORG,
                {
                    "metric": Field(metric, required=True),
                    "value": Field(money_or_decimal, required=True, money_text=True),
                    "unit": Field(text(100)),
                    "counterparty": Field(slug),
                },
            ),
            EventType(
                "organization.announced",
                _ORG,
                {
                    "headline": Field(text(TEXT), required=True),
                    "summary": Field(text(LONG_TEXT)),
                    "related": Field(list_of(slug)),
                    "figures": Field(_FIGURES),
                },
            ),
            EventType(
                "deal.opened",
                _DEAL,
                {
                    "kind": Field(one_of(*DEAL_KINDS), required=True),
                    "title": Field(text(TEXT), required=True),
                    "parties": Field(any_object, required=True),
                },
                _parties_rule,
            ),
            EventType(
                "investment.reported",
                _DEAL,
                {
                    "status": Field(one_of(*_STATUS["investment"]), required=True),
                    "amount": Field(money, money_text=True),
                    "amount_basis": Field(one_of("tranche", "cumulative")),
                    "instrument": Field(one_of(*_INSTRUMENTS)),
                    "stake_percent": Field(percent),
                    "stake_cap_percent": Field(percent),
                    "valuation": Field(money, money_text=True),
                    "note": Field(text(LONG_TEXT)),
                },
                _amount_basis_rule,
            ),
            EventType(
                "partnership.reported",
                _DEAL,
                {
                    "status": Field(one_of(*_STATUS["partnership"]), required=True),
                    "name": Field(text(SHORT_TEXT)),
                    "scope": Field(list_of(one_of(*_SCOPES), max_items=len(_SCOPES))),
                    "terms": Field(terms),
                },
            ),
            EventType(
                "acquisition.reported",
                _DEAL,
                {
                    "status": Field(one_of(*_STATUS["acquisition"]), required=True),
                    "price": Field(money, money_text=True),
                    "stake_percent": Field(percent),
                },
            ),
            EventType(
                CORRECTED,
                _ORG | _DEAL,
                {
                    "target_event_id": _TARGET,
                    "changes": Field(_changes, required=True),
                    "reason": _REASON,
                },
            ),
            EventType(RETRACTED, _ORG | _DEAL, {"target_event_id": _TARGET, "reason": _REASON}),
        )
    }
)

_STREAM_RE = re.compile(r"(org|deal):(.*)", re.DOTALL)
_KIND_NAMES = {"org": "an organization", "deal": "a deal"}
# Fields a correction may never touch: it rewrites a report's data, not what or where it is.
_FROZEN = {
    "type": "a correction cannot change the event type; retract the event and report it again",
    "stream_id": "a correction cannot move an event to another stream; retract it instead",
    "occurred_at": "a correction cannot change when the event occurred; retract and report again",
}
_FROZEN_DEAL_OPENED = {
    "kind": "a correction cannot change the kind of a deal; open a new deal instead",
    "parties": "a correction cannot change the parties of a deal; open a new deal instead",
}


def normalize_new_event(stream_id: str, event: NewEvent) -> NewEvent:
    """Check one event against its type's schema; return it normalized or raise ValidationFailed."""
    errors = Errors()
    match = _STREAM_RE.fullmatch(stream_id) if isinstance(stream_id, str) else None
    kind = match.group(1) if match else None
    if match is None or not SLUG_RE.fullmatch(match.group(2)):
        errors.add(
            "stream_id",
            f"{show(stream_id)} must be org:<id> or deal:<id>, the id in lowercase letters, "
            "digits and hyphens",
        )
    type_name = event.type if isinstance(event.type, str) else ""
    etype = EVENT_TYPES.get(type_name)
    if etype is None:
        errors.add(
            "type",
            f"{show(event.type)} is not an event type; must be one of: {', '.join(EVENT_TYPES)}",
        )
    elif kind is not None and kind not in etype.stream_kinds:
        errors.add("type", f"{type_name} cannot be appended to {_KIND_NAMES[kind]} stream")
    occurred_at = check_occurred_at(
        event.occurred_at, event.occurred_precision, type_name not in CORRECTION_TYPES, errors
    )
    event_id = event.event_id
    if event_id is not None and not isinstance(event_id, UUID):
        checked_id = uuid_text(event_id, "event_id", errors)
        event_id = None if checked_id is INVALID else UUID(checked_id)
    data = _data(etype, event, errors)
    needs_source = etype is not None and not (
        type_name.startswith("organization.") or (type_name in CORRECTION_TYPES and kind == "org")
    )
    source = check_source(event.source, needs_source, errors)
    if not isinstance(event.metadata, Mapping):
        errors.add("metadata", "must be an object")
    errors.raise_if_any()
    return replace(
        event,
        data=data,
        source=source,
        occurred_at=occurred_at,
        event_id=event_id,
        metadata=dict(event.metadata),
    )


def _data(etype: EventType | None, event: NewEvent, errors: Errors) -> dict[str, Any]:
    """Check the event's data against the schema version it is written in."""
    if etype is None:
        return dict(event.data) if isinstance(event.data, Mapping) else {}
    version, current = event.schema_version, CURRENT_SCHEMA_VERSIONS.get(etype.name, 1)
    if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version <= current:
        errors.add(
            "schema_version", f"{show(version)} is not a version of {etype.name} (1–{current})"
        )
        return {}
    if version == current or not isinstance(event.data, Mapping):
        return etype.validate_data(event.data, errors)
    # An older version (an imported log) is stored as written; the store upcasts it on read.
    etype.validate_data(upcast(etype.name, version, dict(event.data))[1], errors)
    return dict(event.data)


def check_against_stream(
    stream_id: str,
    event: NewEvent,
    stream_events: Sequence[RecordedEvent],
    registered_orgs: Collection[str],
) -> None:
    """Check the rules that need the stream so far and the registered organizations."""
    errors = Errors()
    creation = CREATION_TYPES.get(stream_kind(stream_id))
    if creation is not None and not stream_events and event.type != creation:
        errors.add("type", f"{stream_id} does not exist yet: its first event must be {creation}")
    elif creation is not None and stream_events and event.type == creation:
        errors.add("type", f"{stream_id} already exists; {creation} can only be its first event")
    for path, org_id in _org_references(event):
        if org_id not in registered_orgs:
            errors.add(path, f"organization {show(org_id)} is not registered")
    if event.type in CORRECTION_TYPES and isinstance(event.data, Mapping):
        _check_target(stream_id, event, stream_events, errors)
    errors.raise_if_any()


def _event_key(value: Any) -> str:
    """Return the canonical text of an event id."""
    try:
        return str(UUID(str(value)))
    except ValueError:
        return str(value)


def _check_target(
    stream_id: str, event: NewEvent, stream_events: Sequence[RecordedEvent], errors: Errors
) -> None:
    """Check that a correction or retraction aims at a live report of this stream."""
    path, target_id = "data.target_event_id", _event_key(event.data.get("target_event_id"))
    target = next((e for e in stream_events if _event_key(e.event_id) == target_id), None)
    if target is None:
        errors.add(path, f"there is no event {target_id} in {stream_id}")
    elif target.type in CORRECTION_TYPES:
        # Amendments stay one level deep: a bad correction is fixed by correcting the report again.
        errors.add(path, f"{target_id} is an {target.type}; target the report it refers to")
    elif any(
        e.type == RETRACTED and _event_key(e.data.get("target_event_id")) == target_id
        for e in stream_events
    ):
        errors.add(path, f"{target_id} has been retracted already")
    elif event.type == RETRACTED and target.type in CREATION_TYPES.values():
        errors.add(path, f"the {target.type} event cannot be retracted; retract the reports")
    elif event.type == CORRECTED:
        _check_changes(target, event.data.get("changes"), errors)


def _check_changes(target: RecordedEvent, changes: Any, errors: Errors) -> None:
    """Check that the target's data with the changes applied is valid for its type."""
    etype = EVENT_TYPES.get(target.type)
    if etype is None or not isinstance(changes, Mapping):
        return
    frozen = _FROZEN | (_FROZEN_DEAL_OPENED if target.type == "deal.opened" else {})
    for key in changes:
        if key in frozen:
            errors.add(f"data.changes.{key}", frozen[key])
    _, data = upcast(target.type, target.schema_version, dict(target.data))
    for name in MONEY_FIELDS:
        if name in changes or f"{name}_text" in changes:
            data.pop(name, None)
            data.pop(f"{name}_text", None)
    data.update((k, v) for k, v in changes.items() if k not in frozen)
    merged = Errors()
    etype.validate_data(data, merged)
    for path, messages in merged.by_path.items():
        for message in messages:
            errors.add("data.changes" + path.removeprefix("data"), message)


def _org_references(event: NewEvent) -> list[tuple[str, str]]:
    """List (field path, org id) for every organization an event names."""
    data = event.data if isinstance(event.data, Mapping) else {}
    found: list[tuple[str, str]] = []

    def one(path: str, value: Any) -> None:
        # Anything but text is a schema error, reported by normalize_new_event.
        if isinstance(value, str):
            found.append((path, value))

    def many(path: str, values: Any) -> None:
        if isinstance(values, list | tuple):
            for index, value in enumerate(values):
                one(join(path, index), value)

    if event.type == "deal.opened" and isinstance(data.get("parties"), Mapping):
        parties = data["parties"]
        for role in ("investor", "investee", "acquirer", "target"):
            one(f"data.parties.{role}", parties.get(role))
        many("data.parties.members", parties.get("members"))
    elif event.type == CORRECTED and isinstance(data.get("changes"), Mapping):
        one("data.changes.counterparty", data["changes"].get("counterparty"))
        many("data.changes.related", data["changes"].get("related"))
    else:
        one("data.counterparty", data.get("counterparty"))
        many("data.related", data.get("related"))
    return found


def referenced_orgs(event: NewEvent) -> set[str]:
    """Return the org ids an event references (parties, counterparty, related)."""
    return {value for _, value in _org_references(event) if SLUG_RE.fullmatch(value)}


Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
_UPCASTERS: dict[tuple[str, int], Upcaster] = {}
CURRENT_SCHEMA_VERSIONS: dict[str, int] = dict.fromkeys(EVENT_TYPES, 1)


def register_upcaster(type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
    """Register a function turning `type` data of `from_version` into `from_version + 1`."""

    def decorator(function: Upcaster) -> Upcaster:
        _UPCASTERS[(type, from_version)] = function
        current = CURRENT_SCHEMA_VERSIONS.get(type, 1)
        CURRENT_SCHEMA_VERSIONS[type] = max(current, from_version + 1)
        return function

    return decorator


def unregister_upcaster(type: str, from_version: int) -> None:
    """Remove an upcaster (for tests), lowering the current version back to what remains."""
    _UPCASTERS.pop((type, from_version), None)
    versions = [v + 1 for (t, v) in _UPCASTERS if t == type]
    CURRENT_SCHEMA_VERSIONS[type] = max(versions, default=1)


def upcast(type: str, schema_version: int, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """Bring stored data up to the current schema version of its type."""
    version, current = schema_version, CURRENT_SCHEMA_VERSIONS.get(type, schema_version)
    while version < current:
        step = _UPCASTERS.get((type, version))
        if step is None:
            raise LookupError(f"no upcaster from version {version} of {type}")
        data, version = step(dict(data)), version + 1
    return version, data


_FOLD = str.maketrans({"ø": "o", "æ": "ae", "œ": "oe", "đ": "d", "ł": "l", "þ": "th", "ı": "i"})


def slugify(name: str, prefix: str = "org") -> str:
    """Derive an id from a name; non-Latin letters become a stable hash suffix."""
    canonical = unicodedata.normalize("NFKC", name).strip().casefold()
    kept, dropped = [], False
    for char in unicodedata.normalize("NFKD", canonical.translate(_FOLD)):
        if char.isascii():
            kept.append(char)
        elif char.isalnum():
            dropped = True
            kept.append(" ")
    base = re.sub(r"[^a-z0-9]+", "-", "".join(kept)).strip("-")
    if base and not dropped:
        return base[:80].rstrip("-")
    # Hangul and other scripts do not fold to ASCII; a hash keeps distinct names distinct.
    digest = hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{(base or prefix)[:71].rstrip('-')}-{digest}"
