"""Turning submitted forms into event data and back, and domain errors into errors next to fields."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time
from typing import Any

from werkzeug.datastructures import MultiDict

from app.admin.fields import FormField
from app.domain.money import AmountParseError, Money, format_money, parse_money

FormData = MultiDict[str, str]
PRECISIONS = ("day", "month", "year")
SOURCE_FIELDS = ("publisher", "url", "title", "published_at", "author", "language", "attribution")
_PLAIN_NUMBER = re.compile(r"[0-9][0-9,]*(\.[0-9]+)?")
_EXAMPLES = {"terms": "power_gw: 2.2", "figures": "valuation: $300 billion"}


class FormErrors(dict[str, list[str]]):
    """Problems by form field name; '' holds those that belong to no one field."""

    def add(self, field: str, message: str) -> None:
        """Record one problem next to a field."""
        self.setdefault(field, []).append(message)

    def absorb(self, domain_errors: Mapping[str, Sequence[str]], fields: Iterable[str]) -> None:
        """Place the domain's {path: messages} next to the form fields they concern."""
        known = set(fields)
        for path, messages in domain_errors.items():
            field, detail = field_for_path(path, known)
            for message in messages:
                self.add(field, f"{detail}: {message}" if detail else message)


def field_for_path(path: str, known: set[str]) -> tuple[str, str]:
    """Return (form field, sub-path) for a domain error path such as 'data.amount_text'."""
    parts = path.split(".")
    if parts[0] == "source" and len(parts) > 1:
        return f"source_{parts[1]}", ""
    if parts[0] in ("occurred_at", "occurred_precision"):
        return "occurred", ""
    if parts[0] == "data":
        parts = parts[1:]
        if parts[:1] == ["changes"]:
            parts = parts[1:]
        if parts[:1] == ["parties"]:
            parts = parts[1:]
    if parts and parts[0] == "stream_id":
        return "id", ""
    if not parts:
        return "", ""
    name = parts[0].removesuffix("_text")
    if name in known:
        return name, ".".join(parts[1:]) if name in ("terms", "figures", "aliases") else ""
    return "", path


def parse_day(text: str) -> date | None:
    """Read a date typed as 2024-03-27; None when empty. Raise ValueError when unreadable."""
    text = text.strip()
    if not text:
        return None
    try:
        if len(text) != 10:
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a date; write it as 2024-03-27") from None


def start_of(day: date, precision: str) -> datetime:
    """Return the start of the day, month or year a date falls in, in UTC."""
    if precision == "month":
        day = day.replace(day=1)
    elif precision == "year":
        day = day.replace(month=1, day=1)
    return datetime.combine(day, time.min, tzinfo=UTC)


def end_of_day(day: date) -> datetime:
    """Return the last instant of a day in UTC: 'as of 31 December' includes that day."""
    return datetime.combine(day, time.max, tzinfo=UTC)


def read_money_text(name: str, typed: str) -> dict[str, Any]:
    """Return the data for a money input: `{name}_text`, or a bare number for a figure's value."""
    if name == "value" and _PLAIN_NUMBER.fullmatch(typed):
        return {"value": typed.replace(",", "")}
    return {f"{name}_text": typed}


def read_fields(fields: Sequence[FormField], form: FormData, errors: FormErrors) -> dict[str, Any]:
    """Return event data from the submitted inputs; empty inputs are left out."""
    data: dict[str, Any] = {}
    for field in fields:
        if field.widget == "checkboxes":
            chosen = [v for v in form.getlist(field.name) if v]
            if chosen:
                data[field.name] = chosen
            continue
        typed = form.get(field.name, "").strip()
        if not typed:
            continue
        if field.widget == "money":
            data.update(read_money_text(field.name, typed))
        elif field.widget == "percent":
            data[field.name] = typed.removesuffix("%").strip()
        elif field.widget == "lines":
            data[field.name] = [line.strip() for line in typed.splitlines() if line.strip()]
        elif field.widget == "orgs":
            data[field.name] = [part for part in re.split(r"[\s,]+", typed) if part]
        elif field.widget in ("terms", "figures"):
            pairs = _pairs(field, typed, errors)
            if field.widget == "terms":
                data[field.name] = dict(pairs)
            else:
                data[field.name] = [{"metric": k, **read_money_text("value", v)} for k, v in pairs]
        else:
            data[field.name] = typed
    return data


def _pairs(field: FormField, typed: str, errors: FormErrors) -> list[tuple[str, str]]:
    pairs = []
    for number, line in enumerate(typed.splitlines(), start=1):
        if not line.strip():
            continue
        key, colon, value = line.partition(":")
        if not colon or not key.strip() or not value.strip():
            example = _EXAMPLES.get(field.widget, "name: value")
            errors.add(field.name, f"line {number}: write name: value, e.g. {example}")
            continue
        pairs.append((key.strip(), value.strip()))
    return pairs


def show_money(value: Any, typed: str | None = None) -> str:
    """Write stored money for an input so that it reads back exactly."""
    if typed:
        return typed
    if isinstance(value, Mapping):
        money = Money.from_json(value)
        try:
            return format_money(money)
        except ValueError:
            return f"{money.amount} {money.currency}"
    return "" if value is None else str(value)


def fill_fields(fields: Sequence[FormField], data: Mapping[str, Any]) -> FormData:
    """Return form values showing an event's data, for a correction form."""
    values: FormData = MultiDict()
    for field in fields:
        value = data.get(field.name)
        if field.widget == "money":
            values[field.name] = show_money(value, data.get(f"{field.name}_text"))
        elif value is None:
            continue
        elif field.widget == "checkboxes":
            values.setlist(field.name, [str(v) for v in value])
        elif field.widget in ("lines", "orgs"):
            items = [v.get("alias", "") if isinstance(v, Mapping) else str(v) for v in value]
            values[field.name] = ("\n" if field.widget == "lines" else ", ").join(items)
        elif field.widget == "terms":
            values[field.name] = "\n".join(f"{k}: {v}" for k, v in value.items())
        elif field.widget == "figures":
            values[field.name] = "\n".join(
                f"{f.get('metric')}: {show_money(f.get('value'), f.get('value_text'))}"
                for f in value
            )
        else:
            values[field.name] = str(value)
    return values


def preview_money(typed: str) -> tuple[Money | None, str | None]:
    """Parse money as typed, returning it or the reason it cannot be read."""
    try:
        return parse_money(typed), None
    except AmountParseError as error:
        return None, str(error)
