"""Field checks for event envelopes and data, collecting every problem under its field path."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final
from urllib.parse import urlsplit
from uuid import UUID

from app.domain.envelope import ATTRIBUTIONS, PRECISIONS
from app.domain.money import AmountParseError, Money, format_decimal, parse_money

# Callers should use SLUG_RE.fullmatch: with `match`, `$` also accepts a trailing newline.
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
METRIC_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
TERM_RE = re.compile(r"[a-z][a-z0-9_]{0,63}")
CURRENCY_RE = re.compile(r"[A-Z]{3}")
COUNTRY_RE = re.compile(r"[A-Z]{2}")
LANGUAGE_RE = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8}){0,4}")
DECIMAL_RE = re.compile(r"-?[0-9]+(\.[0-9]+)?")
DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# Beyond any real deal in any currency; also keeps "1" followed by a million zeros out.
MAX_INTEGER_DIGITS = 30
MAX_FRACTION_DIGITS = 18
SHORT_TEXT = 500
TEXT = 2000
LONG_TEXT = 20000


class ValidationFailed(Exception):
    """Raised with every problem found, as {field path: [messages]}."""

    def __init__(self, errors: Mapping[str, list[str]]) -> None:
        self.errors: dict[str, list[str]] = {path: list(msgs) for path, msgs in errors.items()}
        super().__init__("; ".join(f"{p}: {', '.join(m)}" for p, m in self.errors.items()))


class Errors:
    """An accumulator of problems by field path."""

    def __init__(self) -> None:
        self.by_path: dict[str, list[str]] = {}

    def add(self, path: str, message: str) -> None:
        """Record one problem with the field at `path`."""
        self.by_path.setdefault(path, []).append(message)

    def count(self) -> int:
        """Return how many problems have been recorded."""
        return sum(len(messages) for messages in self.by_path.values())

    def raise_if_any(self) -> None:
        """Raise ValidationFailed if anything was recorded."""
        if self.by_path:
            raise ValidationFailed(self.by_path)


class _Invalid:
    """The result of a check that recorded a problem instead of a value."""


INVALID: Final = _Invalid()
Check = Callable[[Any, str, Errors], Any]


@dataclass(frozen=True, slots=True)
class Field:
    """One field of an object: how to check it, whether it is required, whether `X_text` is allowed."""

    check: Check
    required: bool = False
    money_text: bool = False


def join(path: str, key: object) -> str:
    """Return the path of a member of the field at `path`."""
    return f"{path}.{key}" if path else str(key)


def show(value: Any) -> str:
    """Render a value the editor typed, shortened, for a message."""
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:40] + "…")
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return str(value)
    return "a list" if isinstance(value, list | tuple) else "an object"


def clean_text(value: Any, path: str, errors: Errors, max_len: int = TEXT) -> Any:
    """Check a non-empty string of at most `max_len` characters; return it stripped."""
    if not isinstance(value, str):
        errors.add(path, "must be text")
        return INVALID
    # PostgreSQL text and jsonb hold neither NUL nor unpaired surrogates.
    if "\x00" in value or _unstorable(value):
        errors.add(path, "contains characters that cannot be stored")
        return INVALID
    text = value.strip()
    if not text:
        errors.add(path, "must not be empty")
        return INVALID
    if len(text) > max_len:
        errors.add(path, f"must be at most {max_len} characters (it has {len(text)})")
        return INVALID
    return text


def _unstorable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def text(max_len: int = TEXT) -> Check:
    """Return a check for a non-empty string of at most `max_len` characters."""
    return lambda value, path, errors: clean_text(value, path, errors, max_len)


def one_of(*choices: str) -> Check:
    """Return a check that a value is one of `choices`."""

    def check(value: Any, path: str, errors: Errors) -> Any:
        if isinstance(value, str) and value in choices:
            return value
        errors.add(path, f"{show(value)} is not allowed; must be one of: {', '.join(choices)}")
        return INVALID

    return check


def matching(pattern: re.Pattern[str], explain: str) -> Check:
    """Return a check that a string matches `pattern` entirely; `explain` says what is expected."""

    def check(value: Any, path: str, errors: Errors) -> Any:
        if isinstance(value, str) and pattern.fullmatch(value):
            return value
        errors.add(path, f"{show(value)} is not {explain}")
        return INVALID

    return check


slug = matching(
    SLUG_RE,
    "a valid id: use lowercase letters, digits and hyphens, at most 80, not starting with a hyphen",
)
currency = matching(CURRENCY_RE, "an ISO 4217 code (three capital letters, e.g. USD, KRW, EUR)")
country = matching(COUNTRY_RE, "an ISO 3166 country code (two capital letters, e.g. KR, US)")
language = matching(LANGUAGE_RE, "a language tag such as 'ko' or 'en-US'")
metric = matching(
    METRIC_RE, "a metric name: lowercase letters, digits, '_' and '-', e.g. annual_revenue"
)


def url(value: Any, path: str, errors: Errors) -> Any:
    """Check an absolute http(s) URL."""
    result = clean_text(value, path, errors, TEXT)
    if result is INVALID:
        return INVALID
    try:
        parts = urlsplit(result)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        errors.add(path, f"{show(value)} is not a web address (http:// or https://)")
        return INVALID
    return result


def uuid_text(value: Any, path: str, errors: Errors) -> Any:
    """Check an event id; return it in canonical lowercase form."""
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, str) and len(value) <= 64:
        try:
            return str(UUID(value))
        except ValueError:
            pass
    errors.add(path, f"{show(value)} is not an event id (a UUID)")
    return INVALID


def timestamp_text(value: Any, path: str, errors: Errors) -> Any:
    """Check an RFC 3339 time with a zone, or a date; return it as text."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            return value.isoformat()
    elif isinstance(value, str) and len(value) <= 64:
        if DATE_RE.fullmatch(value):
            try:
                date.fromisoformat(value)
                return value
            except ValueError:
                pass
        else:
            try:
                parsed = datetime.fromisoformat(value)
            except ValueError:
                parsed = None
            if parsed is not None and parsed.tzinfo is not None:
                return value
    errors.add(path, f"{show(value)} is not a date (2024-03-27) or a time with a zone")
    return INVALID


def decimal_text(value: Any, path: str, errors: Errors, maximum: Decimal | None = None) -> Any:
    """Check an exact non-negative decimal given as a string; return its canonical string."""
    if isinstance(value, bool) or not isinstance(value, str | Decimal):
        if isinstance(value, int):
            errors.add(path, f'must be a decimal string such as "{value}", not a number')
        elif isinstance(value, float):
            errors.add(path, 'must be a decimal string such as "1.25", not a number')
        else:
            errors.add(path, f"{show(value)} is not a decimal number")
        return INVALID
    if isinstance(value, str):
        if len(value) > 64 or not DECIMAL_RE.fullmatch(value):
            errors.add(path, f"{show(value)} is not a decimal number")
            return INVALID
        number = Decimal(value)
    elif not value.is_finite():
        errors.add(path, f"{show(value)} is not a decimal number")
        return INVALID
    else:
        number = value
    if number < 0:
        errors.add(path, "must not be negative")
        return INVALID
    if number == 0:
        number = Decimal(0)  # "-0" is zero
    if number.adjusted() >= MAX_INTEGER_DIGITS:
        errors.add(path, f"is too large (more than {MAX_INTEGER_DIGITS} digits)")
        return INVALID
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -MAX_FRACTION_DIGITS:
        errors.add(path, f"has more than {MAX_FRACTION_DIGITS} decimal places")
        return INVALID
    if maximum is not None and number > maximum:
        errors.add(path, f"must be between 0 and {maximum}")
        return INVALID
    return format_decimal(number)


def percent(value: Any, path: str, errors: Errors) -> Any:
    """Check a percentage: a decimal string from 0 to 100."""
    return decimal_text(value, path, errors, Decimal(100))


def decimal(value: Any, path: str, errors: Errors) -> Any:
    """Check a non-negative decimal string."""
    return decimal_text(value, path, errors)


def money(value: Any, path: str, errors: Errors) -> Any:
    """Check Money {"amount": "<decimal string>", "currency": "<ISO 4217>"}."""
    if isinstance(value, Money):
        value = {"amount": value.amount, "currency": value.currency}
    if not isinstance(value, Mapping):
        errors.add(path, 'must be an amount like {"amount": "8000000000", "currency": "USD"}')
        return INVALID
    before = errors.count()
    result = validate_object(value, MONEY_FIELDS, path, errors)
    return INVALID if errors.count() > before else result


MONEY_FIELDS: Final = {
    "amount": Field(decimal, required=True),
    "currency": Field(currency, required=True),
}


def money_or_decimal(value: Any, path: str, errors: Errors) -> Any:
    """Check Money, or a bare decimal string (a headcount, a ratio)."""
    if isinstance(value, Mapping | Money):
        return money(value, path, errors)
    return decimal_text(value, path, errors)


def list_of(item: Check, max_items: int = 100, min_items: int = 0) -> Check:
    """Return a check for a list of items, duplicates dropped."""

    def check(value: Any, path: str, errors: Errors) -> Any:
        if not isinstance(value, list | tuple):
            errors.add(path, "must be a list")
            return INVALID
        if len(value) > max_items:
            errors.add(path, f"must have at most {max_items} items")
            return INVALID
        if len(value) < min_items:
            errors.add(path, f"must have at least {min_items} items")
            return INVALID
        before, result = errors.count(), list[Any]()
        for index, element in enumerate(value):
            checked = item(element, join(path, index), errors)
            if checked not in result:
                result.append(checked)
        return INVALID if errors.count() > before else result

    return check


def object_of(fields: Mapping[str, Field]) -> Check:
    """Return a check for a nested object with the given fields."""

    def check(value: Any, path: str, errors: Errors) -> Any:
        if not isinstance(value, Mapping):
            errors.add(path, "must be an object")
            return INVALID
        before = errors.count()
        result = validate_object(value, fields, path, errors)
        return INVALID if errors.count() > before else result

    return check


def any_object(value: Any, path: str, errors: Errors) -> Any:
    """Check that a value is an object; its members are checked elsewhere."""
    if not isinstance(value, Mapping):
        errors.add(path, "must be an object")
        return INVALID
    return dict(value)


def terms(value: Any, path: str, errors: Errors) -> Any:
    """Check a flat object of short facts: {"power_gw": "2.2", "location": "…"}."""
    if not isinstance(value, Mapping):
        errors.add(path, 'must be an object of short facts, e.g. {"power_gw": "2.2"}')
        return INVALID
    if len(value) > 50:
        errors.add(path, "must have at most 50 facts")
        return INVALID
    before, result = errors.count(), dict[str, Any]()
    for key, fact in value.items():
        if not isinstance(key, str) or not TERM_RE.fullmatch(key):
            errors.add(join(path, key), "is not a fact name: use lowercase letters, digits and _")
            continue
        if not isinstance(fact, str):
            errors.add(join(path, key), 'must be text (write numbers as strings, e.g. "2.2")')
            continue
        cleaned = clean_text(fact, join(path, key), errors, SHORT_TEXT)
        result[key] = cleaned
    return INVALID if errors.count() > before else result


def validate_object(
    raw: Mapping[Any, Any], fields: Mapping[str, Field], path: str, errors: Errors
) -> dict[str, Any]:
    """Check every field of an object, refuse unknown ones; null counts as absent."""
    allowed = set(fields) | {f"{name}_text" for name, spec in fields.items() if spec.money_text}
    for key, value in raw.items():
        if key not in allowed and value is not None:
            errors.add(join(path, key), "unknown field")
    result: dict[str, Any] = {}
    for name, spec in fields.items():
        if spec.money_text:
            result.update(money_pair(raw, name, spec, path, errors))
            continue
        value = raw.get(name)
        if value is None:
            if spec.required:
                errors.add(join(path, name), "required")
            continue
        checked = spec.check(value, join(path, name), errors)
        if checked is not INVALID:
            result[name] = checked
    return result


def money_pair(
    raw: Mapping[Any, Any], name: str, spec: Field, path: str, errors: Errors
) -> dict[str, Any]:
    """Check Money field `name`, parsing `name_text` ("80억달러") into it; keep both."""
    text_name = f"{name}_text"
    value, typed = raw.get(name), raw.get(text_name)
    checked = INVALID if value is None else spec.check(value, join(path, name), errors)
    if typed is None:
        if value is None and spec.required:
            errors.add(join(path, name), "required")
        return {} if checked is INVALID else {name: checked}
    cleaned = clean_text(typed, join(path, text_name), errors, SHORT_TEXT)
    if cleaned is INVALID:
        return {}
    try:
        parsed = parse_money(cleaned)
    except AmountParseError as exc:
        errors.add(join(path, text_name), getattr(exc, "reason", None) or str(exc))
        return {}
    from_text = money(parsed, join(path, text_name), errors)
    if from_text is INVALID:
        return {}
    if value is not None and checked is not INVALID and checked != from_text:
        errors.add(
            join(path, name),
            f"does not match {text_name} {show(typed)}, which reads as "
            f"{from_text['amount']} {from_text['currency']}",
        )
        return {}
    # The text is kept exactly as typed: it is the source's own wording.
    return {name: from_text, text_name: typed}


SOURCE_FIELDS: Final = {
    "publisher": Field(text(SHORT_TEXT)),
    "url": Field(url),
    "title": Field(text(TEXT)),
    "published_at": Field(timestamp_text),
    "author": Field(text(SHORT_TEXT)),
    "language": Field(language),
    "attribution": Field(one_of(*ATTRIBUTIONS)),
}


def check_source(source: Any, required: bool, errors: Errors) -> dict[str, Any] | None:
    """Check where an event was reported; attribution defaults to 'reported'."""
    if source is None and not required:
        return None
    if source is not None and not isinstance(source, Mapping):
        errors.add("source", "must be an object with at least a publisher")
        return None
    result = validate_object(source or {}, SOURCE_FIELDS, "source", errors)
    if required and (source is None or source.get("publisher") is None):
        errors.add("source.publisher", "required: name the outlet that reported this")
    result.setdefault("attribution", "reported")
    return result


def check_occurred_at(
    value: Any, precision: Any, required: bool, errors: Errors
) -> datetime | None:
    """Check valid time: aware, and at the start of its period when the precision is coarse."""
    if precision not in PRECISIONS:
        errors.add(
            "occurred_precision", f"{show(precision)} must be one of: {', '.join(PRECISIONS)}"
        )
    if value is None:
        if required:
            errors.add("occurred_at", "required")
        return None
    if not isinstance(value, datetime) or value.tzinfo is None:
        errors.add(
            "occurred_at", "must be a date and time with a zone, e.g. 2024-03-27T00:00+09:00"
        )
        return None
    # The period starts in the writer's own zone: a Seoul day begins at 15:00 UTC the day before.
    start = value.replace(hour=0, minute=0, second=0, microsecond=0)
    if precision in ("month", "year"):
        start = start.replace(day=1)
    if precision == "year":
        start = start.replace(month=1)
    if precision in ("day", "month", "year") and value != start:
        errors.add(
            "occurred_at",
            f"with precision '{precision}' must be the start of the {precision}: "
            f"{start.isoformat()}",
        )
    return value
