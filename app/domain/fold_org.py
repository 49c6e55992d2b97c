"""The organization fold: profile, figures and announcements, and the deals it is party to."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from app.domain.envelope import RecordedEvent, iso, stream_key
from app.domain.fold_common import (
    Candidate,
    collect_sources,
    fact,
    figure_value,
    find_conflicts,
    occurred_after_recorded,
    plain,
    to_money,
)
from app.domain.fold_events import EffectiveEvent, fold_inputs

DEAL_RELATIONS = ("investors", "investments", "partnerships", "acquisitions")


def fold_organization(
    events: Iterable[RecordedEvent],
    *,
    as_of: datetime | None = None,
    known_at: datetime | None = None,
    with_history: bool = True,
) -> dict[str, Any]:
    """Return the JSON-ready state of one organization stream, from that stream alone."""
    events = list(events)
    effective, history, known = fold_inputs(
        events, as_of=as_of, known_at=known_at, with_history=with_history
    )
    state: dict[str, Any] = {
        "id": stream_key(events[0].stream_id) if events else None,
        "name": None,
        "kind": None,
        "country": None,
        "website": None,
        "aliases": [],
        "former_names": [],
        "figures": {},
        "announcements": [],
        "version": max((event.version for event in known), default=0),
        "event_count": len(known),
        "sources": collect_sources(effective),
        "conflicts": [],
        "warnings": occurred_after_recorded(effective),
    }
    if with_history:
        state["history"] = [entry.to_json() for entry in history]
    figures: list[tuple[EffectiveEvent, Mapping[str, Any]]] = []
    for item in effective:
        _APPLY.get(item.type, _ignore)(state, item, figures)
    state["figures"] = _figures(figures)
    state["conflicts"] = _figure_conflicts(figures)
    return state


def relate_deals(org_id: str | None, deal_states: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Return the investors, investments, partnerships and acquisitions an org is party to."""
    related: dict[str, list[dict[str, Any]]] = {key: [] for key in DEAL_RELATIONS}
    for deal in sorted(deal_states, key=lambda d: str(d.get("id"))):
        parties = deal.get("parties") or {}
        relate = _RELATE.get(deal.get("kind"))
        if org_id is not None and relate is not None:
            relate(org_id, deal, parties, related)
    return related


def organization_state(
    org_events: Iterable[RecordedEvent],
    deal_states: Iterable[dict[str, Any]],
    *,
    as_of: datetime | None = None,
    known_at: datetime | None = None,
    with_history: bool = True,
) -> dict[str, Any]:
    """Return an organization's own state merged with the deals it is party to."""
    state = fold_organization(org_events, as_of=as_of, known_at=known_at, with_history=with_history)
    state.update(relate_deals(state["id"], deal_states))
    return state


def deal_parties(deal_state: Mapping[str, Any]) -> set[str]:
    """Return the org ids a deal state names as parties."""
    parties = deal_state.get("parties") or {}
    named = {parties.get(role) for role in ("investor", "investee", "acquirer", "target")}
    return {str(org) for org in (*named, *(parties.get("members") or ())) if org}


Figures = list[tuple[EffectiveEvent, Mapping[str, Any]]]


def _ignore(state: dict[str, Any], item: EffectiveEvent, figures: Figures) -> None:
    return None


def _registered(state: dict[str, Any], item: EffectiveEvent, figures: Figures) -> None:
    for key in ("name", "kind", "country", "website"):
        state[key] = item.data.get(key)
    for alias in item.data.get("aliases") or ():
        if isinstance(alias, Mapping):
            _add_alias(state, alias.get("alias"), alias.get("language"))
        else:
            _add_alias(state, alias, None)


def _renamed(state: dict[str, Any], item: EffectiveEvent, figures: Figures) -> None:
    new_name = item.data.get("name")
    if new_name == state["name"]:
        return
    if state["name"] is not None:
        former = {
            "name": state["name"],
            "until": iso(item.occurred_at),
            "event_id": str(item.event_id),
        }
        state["former_names"].append(former)
    state["name"] = new_name


def _alias_added(state: dict[str, Any], item: EffectiveEvent, figures: Figures) -> None:
    _add_alias(state, item.data.get("alias"), item.data.get("language"))


def _add_alias(state: dict[str, Any], alias: Any, language: Any) -> None:
    entry = {"alias": alias, "language": language}
    if alias and entry not in state["aliases"]:
        state["aliases"].append(entry)


def _is_figure(figure: Any) -> bool:
    return (
        isinstance(figure, Mapping)
        and bool(figure.get("metric"))
        and figure.get("value") is not None
    )


def _figure_reported(state: dict[str, Any], item: EffectiveEvent, figures: Figures) -> None:
    if _is_figure(item.data):
        figures.append((item, item.data))


def _announced(state: dict[str, Any], item: EffectiveEvent, figures: Figures) -> None:
    announced = [figure for figure in item.data.get("figures") or () if _is_figure(figure)]
    figures.extend((item, figure) for figure in announced)
    entry = fact(item, "headline", item.data.get("headline"))
    entry.pop("status")
    entry["summary"] = item.data.get("summary")
    entry["related"] = plain(list(item.data.get("related") or ()))
    entry["figures"] = [_figure_fields(figure) for figure in announced]
    state["announcements"].append(entry)


_APPLY: dict[str, Callable[[dict[str, Any], EffectiveEvent, Figures], None]] = {
    "organization.registered": _registered,
    "organization.renamed": _renamed,
    "organization.alias_added": _alias_added,
    "organization.figure_reported": _figure_reported,
    "organization.announced": _announced,
}


def _figure_fields(figure: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "metric": figure.get("metric"),
        "value": figure_value(figure.get("value")),
        "unit": figure.get("unit"),
        "counterparty": figure.get("counterparty"),
    }


def _figures(figures: Figures) -> dict[str, Any]:
    """Return each metric's history in fold order and its latest value."""
    by_metric: dict[str, list[dict[str, Any]]] = {}
    for item, figure in figures:
        entry = fact(item, "value", figure_value(figure.get("value")))
        entry.pop("status")
        entry.update(unit=figure.get("unit"), counterparty=figure.get("counterparty"))
        entry["event_type"] = item.type
        by_metric.setdefault(str(figure.get("metric")), []).append(entry)
    return {
        metric: {"latest": history[-1], "history": history}
        for metric, history in sorted(by_metric.items())
    }


def _figure_conflicts(figures: Figures) -> list[dict[str, Any]]:
    """Return periods in which reports disagree about one metric of this organization."""
    by_metric: dict[str, list[Candidate]] = {}
    for item, figure in figures:
        value = figure.get("value")
        if isinstance(value, Mapping):
            money = to_money(value)
            amount, currency = money.amount, money.currency
        else:
            amount, currency = Decimal(str(value)), None
        scope = (currency, figure.get("unit"), figure.get("counterparty"))
        candidate = Candidate(item, figure_value(value), amount, scope)
        by_metric.setdefault(str(figure.get("metric")), []).append(candidate)
    conflicts = []
    for metric, candidates in sorted(by_metric.items()):
        conflicts.extend(find_conflicts(f"figures.{metric}", candidates))
    return conflicts


def _investment(org_id: str, deal: dict[str, Any], parties: Any, related: dict[str, Any]) -> None:
    for role, other, relation in (
        ("investor", "investee", "investments"),
        ("investee", "investor", "investors"),
    ):
        if parties.get(role) == org_id:
            related[relation].append(
                {
                    "deal_id": deal.get("id"),
                    "title": deal.get("title"),
                    "counterpart": parties.get(other),
                    "total_invested": deal.get("total_invested", []),
                    "stake": deal.get("stake"),
                    "status": deal.get("status"),
                }
            )


def _partnership(org_id: str, deal: dict[str, Any], parties: Any, related: dict[str, Any]) -> None:
    members = list(parties.get("members") or ())
    if org_id in members:
        related["partnerships"].append(
            {
                "deal_id": deal.get("id"),
                "title": deal.get("title"),
                "members": members,
                "counterparts": [m for m in members if m != org_id],
                "name": deal.get("name"),
                "status": deal.get("status"),
            }
        )


def _acquisition(org_id: str, deal: dict[str, Any], parties: Any, related: dict[str, Any]) -> None:
    for role, other in (("acquirer", "target"), ("target", "acquirer")):
        if parties.get(role) == org_id:
            related["acquisitions"].append(
                {
                    "deal_id": deal.get("id"),
                    "title": deal.get("title"),
                    "role": role,
                    "counterpart": parties.get(other),
                    "price": deal.get("price"),
                    "stake": deal.get("stake"),
                    "status": deal.get("status"),
                }
            )


_RELATE: dict[Any, Callable[[str, dict[str, Any], Any, dict[str, Any]], None]] = {
    "investment": _investment,
    "partnership": _partnership,
    "acquisition": _acquisition,
}
