"""How values read on the admin pages: amounts with thousands separators, dates at their precision."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from flask import Flask

from app.admin.fields import LABELS, TYPE_TITLES
from app.domain.money import Money, format_decimal, format_money

ATTRIBUTION_TITLES = {
    "official": "Official — the parties said so",
    "confirmed": "Confirmed by the outlet",
    "reported": "Reported",
    "anonymous_sources": "Anonymous sources",
    "rumor": "Rumor",
    "denied": "Denied",
}


def grouped(amount: Any) -> str:
    """Write a decimal with thousands separators: 8,000,000,000 or 1,234.5."""
    whole, point, fraction = format_decimal(Decimal(str(amount))).partition(".")
    return f"{int(whole):,}{point}{fraction}"


def money(value: Any) -> str:
    """Write money exactly, e.g. 8,000,000,000 USD; a list of amounts is joined with ' + '."""
    if value is None or value == []:
        return "—"
    if isinstance(value, list | tuple):
        return " + ".join(money(item) for item in value)
    if isinstance(value, Mapping) and "amount" in value:
        return f"{grouped(value['amount'])} {value.get('currency', '')}".strip()
    try:
        return grouped(value)
    except (ArithmeticError, ValueError):
        return str(value)


def money_words(value: Any) -> str:
    """Write money the way an article would, e.g. $8 billion; empty when it cannot."""
    if not isinstance(value, Mapping) or "amount" not in value:
        return ""
    try:
        return format_money(Money.from_json(value))
    except (ArithmeticError, ValueError, KeyError):
        return ""


def when(value: Any, precision: str | None = "instant") -> str:
    """Write an RFC 3339 time at its precision: 2024-03-27, 2024-03 or 2024; instants in UTC."""
    if not value:
        return "—"
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)
    formats = {"day": "%Y-%m-%d", "month": "%Y-%m", "year": "%Y"}
    return moment.strftime(formats.get(precision or "instant", "%Y-%m-%d %H:%M UTC"))


def field_value(name: str, value: Any) -> str:
    """Write one data field of an event for reading."""
    if value is None or value == [] or value == {}:
        return "—"
    if isinstance(value, Mapping) and "amount" in value:
        return money(value)
    if name.endswith("percent"):
        return f"{value}%"
    if isinstance(value, Mapping):
        return "; ".join(f"{k}: {field_value(str(k), v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(_item(v) for v in value)
    return str(value)


def _item(value: Any) -> str:
    if isinstance(value, Mapping) and "metric" in value:
        return f"{value['metric']}: {field_value('value', value.get('value'))}"
    if isinstance(value, Mapping) and "alias" in value:
        return str(value["alias"])
    return field_value("", value)


def data_rows(data: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """Return (label, value, as typed) for each field of an event's data worth showing."""
    rows = []
    for name, value in data.items():
        if name.endswith("_text") or name in ("target_event_id", "changes", "reason"):
            continue
        typed = data.get(f"{name}_text") or ""
        rows.append(
            (LABELS.get(name, name.replace("_", " ").capitalize()), field_value(name, value), typed)
        )
    return rows


def init_filters(app: Flask) -> None:
    """Make the display helpers available to templates."""
    app.jinja_env.filters.update(
        money=money,
        money_words=money_words,
        when=when,
        field_value=lambda value, name="": field_value(name, value),
        data_rows=data_rows,
        type_title=lambda t: TYPE_TITLES.get(t, t),
        attribution=lambda a: ATTRIBUTION_TITLES.get(a, a or "—"),
    )
