"""The deal fold: what one deal stream says once its events are folded."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from app.domain.envelope import RecordedEvent, iso, stream_key, utc
from app.domain.fold_common import (
    Candidate,
    collect_sources,
    decimal_text,
    fact,
    find_conflicts,
    latest_fact,
    money_json,
    occurred_after_recorded,
    plain,
    to_money,
    warning,
)
from app.domain.fold_events import EffectiveEvent, fold_inputs
from app.domain.money import Money

COUNTED = frozenset({"agreed", "completed"})
PENDING = frozenset({"rumored", "considering", "in_talks"})
SETTLED = COUNTED | {"called_off"}
STILL_OPEN = frozenset({"considering", "in_talks"})
STALE_AFTER = timedelta(days=365)
REPORT_TYPES = {
    "investment": "investment.reported",
    "partnership": "partnership.reported",
    "acquisition": "acquisition.reported",
}

Reports = Sequence[EffectiveEvent]
KindFold = tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]


def fold_deal(
    events: Iterable[RecordedEvent],
    *,
    as_of: datetime | None = None,
    known_at: datetime | None = None,
    with_history: bool = True,
) -> dict[str, Any]:
    """Return the JSON-ready state of one deal stream.

    `with_history=False` leaves out `history` (every event with its effect): stored
    read models and snapshots omit it, since it grows with the stream and the log
    itself answers it.

    `first_reported_at` / `last_reported_at` are the valid times (occurred_at) of the first
    and last report in effect: they follow `as_of`, and a late report of an old fact never
    moves `last_reported_at` forward.
    """
    events = list(events)
    effective, history, known = fold_inputs(
        events, as_of=as_of, known_at=known_at, with_history=with_history
    )
    opened = next((e for e in effective if e.type == "deal.opened"), None)
    opening: Mapping[str, Any] = {} if opened is None else opened.data
    kind = opening.get("kind")
    report_type = REPORT_TYPES.get(str(kind))
    reports = [e for e in effective if e.event.type == report_type]
    state: dict[str, Any] = {
        "id": stream_key(events[0].stream_id) if events else None,
        "kind": kind,
        "title": opening.get("title"),
        "parties": plain(opening.get("parties")),
        "status": reports[-1].data.get("status") if reports else None,
        "version": max((event.version for event in known), default=0),
        "event_count": len(known),
        "first_reported_at": iso(reports[0].occurred_at) if reports else None,
        "last_reported_at": iso(reports[-1].occurred_at) if reports else None,
        "sources": collect_sources(effective),
        "conflicts": [],
        "warnings": occurred_after_recorded(effective),
    }
    if with_history:
        state["history"] = [entry.to_json() for entry in history]
    fold_kind = _KIND_FOLDS.get(kind)
    if fold_kind is not None:
        fields, conflicts, warnings = fold_kind(reports)
        state.update(fields)
        state["conflicts"].extend(conflicts)
        state["warnings"].extend(warnings)
    return state


def stale_warnings(deal_state: dict[str, Any], at: datetime) -> list[dict[str, Any]]:
    """Warn when a deal is still considering or in talks with no report for over a year."""
    status = deal_state.get("status")
    last = deal_state.get("last_reported_at")
    if status not in STILL_OPEN or last is None:
        return []
    if utc(at) - datetime.fromisoformat(last) <= STALE_AFTER:
        return []
    return [warning("stale_status", f"still {status} with no report since {last}")]


def _investment(reports: Reports) -> KindFold:
    counted = _counted(reports)
    total, total_warnings = _total_invested(counted)
    fields = {
        "total_invested": total,
        "pending": _pending(reports),
        "stake": latest_fact(reports, "stake_percent", "percent", decimal_text),
        "stake_cap": latest_fact(reports, "stake_cap_percent", "percent", decimal_text),
        "instruments": sorted(
            {str(r.data["instrument"]) for r in counted if r.data.get("instrument")}
        ),
        "valuation": latest_fact(reports, "valuation", "value", money_json),
    }
    cumulative = [r for r in counted if r.data.get("amount_basis") == "cumulative"]
    conflicts = [
        *find_conflicts("stake", _percent_candidates(reports, "stake_percent")),
        *find_conflicts("valuation", _money_candidates(reports, "valuation")),
        *find_conflicts("total_invested", _money_candidates(cumulative, "amount")),
    ]
    return fields, conflicts, [*total_warnings, *_stake_above_cap(reports)]


def _acquisition(reports: Reports) -> KindFold:
    fields = {
        "price": latest_fact(reports, "price", "value", money_json),
        "stake": latest_fact(reports, "stake_percent", "percent", decimal_text),
    }
    conflicts = [
        *find_conflicts("stake", _percent_candidates(reports, "stake_percent")),
        *find_conflicts("price", _money_candidates(reports, "price")),
    ]
    return fields, conflicts, []


def _partnership(reports: Reports) -> KindFold:
    name = scope = None
    terms: dict[str, Any] = {}
    for report in reports:
        name = report.data.get("name") or name
        if report.data.get("scope") is not None:
            scope = sorted({str(item) for item in report.data["scope"]})
        terms.update(plain(report.data.get("terms") or {}))
    fields = {"name": name, "scope": scope or [], "terms": dict(sorted(terms.items()))}
    return fields, [], []


_KIND_FOLDS: dict[Any, Callable[[Reports], KindFold]] = {
    "investment": _investment,
    "acquisition": _acquisition,
    "partnership": _partnership,
}


def _counted(reports: Reports) -> list[EffectiveEvent]:
    return [r for r in reports if r.data.get("status") in COUNTED]


def _total_invested(counted: Reports) -> tuple[list[dict[str, str]], list[dict[str, Any]]]:
    """Sum per currency: the last counted cumulative total plus the counted tranches after it."""
    totals: dict[str, Decimal] = {}
    tranches: dict[str, Decimal] = {}
    warnings = []
    for report in counted:
        if report.data.get("amount") is None:
            continue
        amount = to_money(report.data["amount"])
        currency = amount.currency
        if report.data.get("amount_basis") == "cumulative":
            before = Money(tranches.get(currency, Decimal(0)), currency)
            if amount.amount < before.amount:
                message = f"cumulative total {_show(amount)} is below the tranches before it, {_show(before)}"
                warnings.append(warning("cumulative_below_tranches", message, report.event_id))
            totals[currency] = amount.amount
        else:
            tranches[currency] = tranches.get(currency, Decimal(0)) + amount.amount
            totals[currency] = totals.get(currency, Decimal(0)) + amount.amount
    return [Money(totals[c], c).to_json() for c in sorted(totals)], warnings


def _show(money: Money) -> str:
    return f"{money.to_json()['amount']} {money.currency}"


def _pending(reports: Reports) -> list[dict[str, Any]]:
    """List reports that count for nothing yet; `superseded` once a later one settles the deal."""
    settled = [i for i, r in enumerate(reports) if r.data.get("status") in SETTLED]
    last_settled = settled[-1] if settled else -1
    entries = []
    for index, report in enumerate(reports):
        if report.data.get("status") not in PENDING:
            continue
        amount = report.data.get("amount")
        entry = fact(report, "amount", None if amount is None else money_json(amount))
        entry["amount_basis"] = report.data.get("amount_basis")
        entry["superseded"] = index < last_settled
        entries.append(entry)
    return entries


def _stake_above_cap(reports: Reports) -> list[dict[str, Any]]:
    """Warn at each report after which the stake in force exceeds the cap in force."""
    stake = cap = None
    warnings = []
    for report in reports:
        new_stake, new_cap = report.data.get("stake_percent"), report.data.get("stake_cap_percent")
        stake = stake if new_stake is None else Decimal(str(new_stake))
        cap = cap if new_cap is None else Decimal(str(new_cap))
        touched = new_stake is not None or new_cap is not None
        if touched and stake is not None and cap is not None and stake > cap:
            message = (
                f"stake {decimal_text(stake)}% is above the reported cap of {decimal_text(cap)}%"
            )
            warnings.append(warning("stake_above_cap", message, report.event_id))
    return warnings


def _percent_candidates(reports: Reports, field: str) -> list[Candidate]:
    return [
        Candidate(r, decimal_text(r.data[field]), Decimal(str(r.data[field])))
        for r in reports
        if r.data.get(field) is not None
    ]


def _money_candidates(reports: Reports, field: str) -> list[Candidate]:
    candidates = []
    for report in reports:
        if report.data.get(field) is not None:
            money = to_money(report.data[field])
            candidates.append(Candidate(report, money.to_json(), money.amount, (money.currency,)))
    return candidates
