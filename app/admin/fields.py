"""Form fields for each event type, derived from the domain's EVENT_TYPES so forms follow the schema."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from app.domain.events import EVENT_TYPES
from app.domain.validation import LONG_TEXT, SLUG_RE, Field, percent, terms, url

# The editor's words for each field; "Amount", "Basis", "Status" and "Type" are fixed labels.
LABELS = {
    "name": "Name",
    "kind": "Type",
    "country": "Country",
    "website": "Website",
    "aliases": "Aliases",
    "alias": "Alias",
    "language": "Language",
    "metric": "Metric",
    "value": "Value",
    "unit": "Unit",
    "counterparty": "Counterparty",
    "headline": "Headline",
    "summary": "Summary",
    "related": "Related organizations",
    "figures": "Figures",
    "title": "Title",
    "status": "Status",
    "amount": "Amount",
    "amount_basis": "Basis",
    "instrument": "Instrument",
    "stake_percent": "Stake (%)",
    "stake_cap_percent": "Stake cap (%)",
    "valuation": "Valuation (post-money)",
    "note": "Note",
    "scope": "Scope",
    "terms": "Terms",
    "price": "Price",
}
HELP = {
    "amount": "As the article prints it: 80억달러, $8 billion, USD 8,000,000,000",
    "valuation": "As printed, e.g. $300 billion or 300조원",
    "price": "As printed, e.g. $1.2bn or 1조2천억원",
    "value": "Money as printed ($157 billion, 80억달러) or a plain number (1200)",
    "amount_basis": "tranche: this payment alone · cumulative: the total invested so far",
    "aliases": "One per line, in any language (노바랩스)",
    "related": "Organization ids, separated by commas",
    "counterparty": "Organization id, if the figure is about a relationship",
    "figures": "One per line: metric: value — e.g. valuation: $300 billion",
    "terms": "One per line: name: value — e.g. power_gw: 2.2",
    "metric": "valuation, annual_revenue, market_cap, headcount, fair_value_of_stake or another",
    "stake_percent": "A number from 0 to 100",
    "stake_cap_percent": "A number from 0 to 100",
    "language": "A language tag such as ko or en",
    "country": "Two capital letters, e.g. KR or US",
}
# Fields a correction may not change, by target type (the domain refuses them too).
FROZEN = {"deal.opened": frozenset({"kind", "parties"})}


@dataclass(frozen=True, slots=True)
class FormField:
    """One input of an event form."""

    name: str
    label: str
    widget: str  # text, textarea, select, checkboxes, money, percent, url, org, lines, orgs, terms, figures
    required: bool = False
    choices: tuple[str, ...] = ()
    help: str = ""


def _free(check: Callable[..., Any]) -> dict[str, Any]:
    """Return the values a check closes over (the choices of one_of, the item of list_of)."""
    code = getattr(check, "__code__", None)
    cells = getattr(check, "__closure__", None) or ()
    names = code.co_freevars if code is not None else ()
    return {name: cell.cell_contents for name, cell in zip(names, cells, strict=False)}


def widget_of(spec: Field) -> tuple[str, tuple[str, ...]]:
    """Choose the input for a field from how the domain checks it."""
    if spec.money_text:
        return "money", ()
    check, free = spec.check, _free(spec.check)
    if "choices" in free:
        return "select", tuple(free["choices"])
    if "item" in free:
        item = _free(free["item"])
        if "choices" in item:
            return "checkboxes", tuple(item["choices"])
        if item.get("pattern") is SLUG_RE:
            return "orgs", ()
        return ("figures", ()) if "fields" in item else ("lines", ())
    if free.get("pattern") is SLUG_RE:
        return "org", ()
    simple = {terms: "terms", percent: "percent", url: "url"}
    if check in simple:
        return simple[check], ()
    return ("textarea", ()) if free.get("max_len", 0) >= LONG_TEXT else ("text", ())


def form_fields(type_name: str) -> list[FormField]:
    """Return the inputs of an event type's data, in the schema's order."""
    etype = EVENT_TYPES[type_name]
    fields = []
    for name, spec in etype.fields.items():
        if name in FROZEN.get(type_name, ()):
            continue
        widget, choices = widget_of(spec)
        label = LABELS.get(name, name.replace("_", " ").capitalize())
        fields.append(FormField(name, label, widget, spec.required, choices, HELP.get(name, "")))
    return fields


def recordable_types(stream_kind: str, deal_kind: str | None = None) -> list[str]:
    """Return the event types an editor records on an organization or a deal page."""
    if stream_kind == "org":
        return [
            "organization.figure_reported",
            "organization.announced",
            "organization.alias_added",
            "organization.renamed",
        ]
    return [f"{deal_kind}.reported"] if deal_kind else []


TYPE_TITLES: Mapping[str, str] = {
    "organization.registered": "Organization registered",
    "organization.renamed": "Renamed",
    "organization.alias_added": "Alias added",
    "organization.figure_reported": "Figure reported",
    "organization.announced": "Announcement",
    "deal.opened": "Deal opened",
    "investment.reported": "Investment reported",
    "partnership.reported": "Partnership reported",
    "acquisition.reported": "Acquisition reported",
    "event.corrected": "Correction",
    "event.retracted": "Retraction",
}
