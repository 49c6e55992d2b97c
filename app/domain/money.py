"""Exact money: Decimal amounts in ISO 4217 currencies, read and written as articles print them."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Context, Decimal, DecimalException, Inexact, InvalidOperation, localcontext
from functools import lru_cache
from typing import Any

from app.domain._korean_numbers import (
    UNIT_CHARACTERS,
    read_korean_amount,
    write_korean_amount,
)

_ISO_CODES = """
    USD KRW EUR GBP JPY CNY HKD SGD TWD INR CHF CAD AUD NZD AED SAR QAR KWD ILS TRY
    SEK NOK DKK ISK PLN CZK HUF RUB ZAR BRL MXN IDR VND THB MYR PHP
"""
CURRENCIES = frozenset(_ISO_CODES.split())
_SYMBOLS = {"$": "USD", "us$": "USD", "c$": "CAD", "a$": "AUD", "hk$": "HKD", "s$": "SGD"}
_SYMBOLS |= {"nt$": "TWD", "₩": "KRW", "€": "EUR", "£": "GBP"}
_ENGLISH_WORDS = {"dollar": "USD", "dollars": "USD", "won": "KRW", "euro": "EUR", "euros": "EUR"}
_ENGLISH_WORDS |= {"pound": "GBP", "pounds": "GBP", "yen": "JPY", "yuan": "CNY", "rmb": "CNY"}
_KOREAN_NAMES = {"KRW": "원", "USD": "달러", "EUR": "유로", "GBP": "파운드", "JPY": "엔"}
_KOREAN_NAMES |= {"CNY": "위안"}
_KOREAN_WORDS = {name: code for code, name in _KOREAN_NAMES.items()}
_KOREAN_WORDS |= {name + "화": code for code, name in _KOREAN_NAMES.items()}  # 달러화, 원화
_KOREAN_WORDS |= {"불": "USD", "미화": "USD", "홍콩달러": "HKD", "싱가포르달러": "SGD"}
_KOREAN_WORDS |= {"대만달러": "TWD", "캐나다달러": "CAD", "호주달러": "AUD"}
_CURRENCY_MARKERS = {code.lower(): frozenset({code}) for code in CURRENCIES}
_CURRENCY_MARKERS |= {
    word: frozenset({code}) for word, code in (_SYMBOLS | _ENGLISH_WORDS | _KOREAN_WORDS).items()
}
# Several currencies print these signs; a guess could be wrong by a factor of 20.
_CURRENCY_MARKERS |= {"¥": frozenset({"JPY", "CNY"}), "kr": frozenset({"SEK", "NOK", "DKK", "ISK"})}
_ENGLISH_UNITS = {"k": 3, "thousand": 3, "m": 6, "mn": 6, "mln": 6, "mm": 6, "million": 6}
_ENGLISH_UNITS |= {"b": 9, "bn": 9, "bln": 9, "billion": 9, "t": 12, "tn": 12, "trillion": 12}
_HANGUL_WORDS = sorted([*_KOREAN_WORDS, *UNIT_CHARACTERS], key=len, reverse=True)

_TOKEN = re.compile(
    r"(?P<space>\s+)|(?P<number>\.?[0-9][0-9.,]*)|(?P<symbol>(?:us|hk|nt|c|a|s)\$|[$₩€£¥])"
    r"|(?P<word>[a-z]+)|(?P<hangul>[가-힣]+)|(?P<minus>[-−–])"
)
_NUMBER = re.compile(r"(?:[0-9]+|[0-9]{1,3}(?:,[0-9]{3})+)(?:\.[0-9]+)?|\.[0-9]+")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:e[+-]?[0-9]+)?", re.IGNORECASE)
_MAX_DIGITS = 40
# Amounts are exact: any rounding traps instead of silently changing the figure.
_EXACT = Context(prec=2 * _MAX_DIGITS + 20, traps=[Inexact, InvalidOperation])
_EN_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£"}


class AmountParseError(ValueError):
    """Text that cannot be read as an exact amount; the message says why."""


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount in one currency."""

    amount: Decimal
    currency: str

    def to_json(self) -> dict[str, str]:
        """Return the wire form: the amount as a decimal string."""
        return {"amount": format_decimal(self.amount), "currency": self.currency}

    @classmethod
    def from_json(cls, value: Any) -> Money:
        """Build from the wire form {"amount": "8000000000", "currency": "USD"}."""
        return cls(Decimal(str(value["amount"])), str(value["currency"]))


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # number, english_unit, korean_unit, currency or minus
    text: str


def format_decimal(value: Decimal) -> str:
    """Format a Decimal without exponent and without trailing fractional zeros."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def parse_decimal(text: str) -> Decimal:
    """Parse a decimal string such as "12.5" exactly; refuse NaN, infinities and huge exponents."""
    cleaned = unicodedata.normalize("NFKC", text).strip()
    if not _DECIMAL.fullmatch(cleaned):
        if cleaned.lstrip("+-").lower() in ("nan", "snan", "inf", "infinity"):
            raise AmountParseError(f"not a finite number: {text!r}")
        raise AmountParseError(f"not a decimal number: {text!r}; write digits such as 12.5")
    value = Decimal(cleaned)
    if abs(value.adjusted()) > _MAX_DIGITS:
        raise AmountParseError(f"exponent out of range in {text!r} (at most {_MAX_DIGITS} places)")
    return Decimal(format(value, "f"))


@lru_cache(maxsize=4096)
def parse_money(text: str) -> Money:
    """Parse money as articles print it, e.g. "$8 billion", "8.25 bn dollars" or "1조2천억원".

    Cached: the same wording comes back again and again, and Money is immutable.
    """
    cleaned = unicodedata.normalize("NFKC", text).strip()
    if not cleaned:
        raise AmountParseError("no amount: the text is empty")
    tokens = _tokenize(cleaned.lower(), text)
    amount = _read_amount(tokens, text)
    return Money(Decimal(format_decimal(amount)), _read_currency(tokens, text))


def _tokenize(cleaned: str, text: str) -> list[_Token]:
    tokens = []
    position = 0
    while position < len(cleaned):
        match = _TOKEN.match(cleaned, position)
        if match is None:
            raise AmountParseError(f"unexpected character {cleaned[position]!r} in {text!r}")
        kind, value = match.lastgroup, match.group()
        position = match.end()
        if kind == "number" and not _NUMBER.fullmatch(value):
            raise AmountParseError(
                f"malformed number {value!r} in {text!r}: use ',' only between groups of "
                "three digits and '.' once, for decimals"
            )
        if kind == "number" and len(value) > _MAX_DIGITS:
            raise AmountParseError(f"too many digits in {value!r}")
        if kind == "hangul":
            tokens += _split_hangul(value, text)
        elif kind in ("word", "symbol"):
            tokens.append(_classify_word(value, text))
        elif kind in ("number", "minus"):
            tokens.append(_Token(str(kind), value))
    return tokens


def _split_hangul(run: str, text: str) -> list[_Token]:
    # Korean runs together number units and currencies ("억달러"), so split by longest known word.
    tokens = []
    while run:
        word = next((w for w in _HANGUL_WORDS if run.startswith(w)), None)
        if word is None:
            raise _unknown_word(run, text)
        kind = "korean_unit" if word in UNIT_CHARACTERS else "currency"
        tokens.append(_Token(kind, word))
        run = run[len(word) :]
    return tokens


def _classify_word(word: str, text: str) -> _Token:
    if word in _CURRENCY_MARKERS:
        return _Token("currency", word)
    if word in _ENGLISH_UNITS:
        return _Token("english_unit", word)
    raise _unknown_word(word, text)


def _unknown_word(word: str, text: str) -> AmountParseError:
    return AmountParseError(
        f"unknown word {word!r} in {text!r}: expected a unit such as k, million, bn, 억 "
        "or a currency such as USD, dollars, 원"
    )


def _read_amount(tokens: Sequence[_Token], text: str) -> Decimal:
    kinds = [token.kind for token in tokens]
    # Korean may write a number without digits (천만원); the Korean reader checks the rest.
    numbers = [i for i, kind in enumerate(kinds) if kind in ("number", "korean_unit")]
    if not numbers:
        raise AmountParseError(f"no number in {text!r}")
    if "minus" in kinds:
        if kinds.index("minus") < numbers[0]:
            raise AmountParseError(f"negative amounts are not allowed: {text!r}")
        raise AmountParseError(
            f"'-' after a number looks like a range in {text!r}; give one amount"
        )
    inside = [i for i, kind in enumerate(kinds) if kind != "currency"]
    run = tokens[inside[0] : inside[-1] + 1]
    if len(run) != len(inside):
        raise AmountParseError(
            f"more than one amount in {text!r}: write one amount, the currency before or after it"
        )
    try:
        with localcontext(_EXACT):
            if any(token.kind == "english_unit" for token in run):
                return _read_english_amount(run)
            return read_korean_amount(
                [token.text if token.kind == "korean_unit" else _number(token) for token in run]
            )
    except ValueError as error:
        raise AmountParseError(f"cannot read the amount in {text!r}: {error}") from None
    except DecimalException:
        raise AmountParseError(f"too many digits to keep {text!r} exact") from None


def _read_english_amount(run: Sequence[_Token]) -> Decimal:
    *number, unit = run
    if unit.kind != "english_unit" or len(number) != 1 or number[0].kind != "number":
        written = " ".join(token.text for token in run)
        raise ValueError(f"write one number and then one unit such as million, not {written!r}")
    return _number(number[0]).scaleb(_ENGLISH_UNITS[unit.text])


def _number(token: _Token) -> Decimal:
    return Decimal(token.text.replace(",", ""))


def _read_currency(tokens: Sequence[_Token], text: str) -> str:
    markers = [token.text for token in tokens if token.kind == "currency"]
    if not markers:
        if any(token.kind == "korean_unit" for token in tokens):
            raise AmountParseError(
                f"no currency: {text!r} could be KRW or USD; add 원, 달러, $ or an ISO code"
            )
        raise AmountParseError(
            f"no currency in {text!r}; add $, €, £, ₩, dollars, 달러, 원 or an ISO code such as USD"
        )
    candidates = _CURRENCY_MARKERS[markers[0]]
    for marker in markers[1:]:
        meaning = _CURRENCY_MARKERS[marker]
        if not candidates & meaning:
            raise AmountParseError(
                f"two different currencies in {text!r}: {markers[0]!r} means "
                f"{'/'.join(sorted(candidates))} but {marker!r} means {'/'.join(sorted(meaning))}"
            )
        candidates &= meaning
    if len(candidates) > 1:
        raise AmountParseError(
            f"ambiguous currency: {markers[0]!r} in {text!r} could be "
            f"{' or '.join(sorted(candidates))}; write the ISO code instead"
        )
    (currency,) = candidates
    return currency


def format_money(money: Money, style: str = "en") -> str:
    """Write money so that parse_money reads it back exactly: "$8 billion" or "80억 달러"."""
    if money.currency not in CURRENCIES:
        raise ValueError(f"unsupported currency {money.currency!r}")
    if not money.amount.is_finite() or money.amount < 0:
        raise ValueError(f"cannot write {money.amount}: amounts are finite and not negative")
    amount = abs(Decimal(format_decimal(money.amount)))  # abs() turns -0 into 0
    if style == "ko":
        name = _KOREAN_NAMES.get(money.currency, money.currency)
        if "." in format_decimal(amount):
            return f"{_grouped(amount)} {name}"
        return f"{write_korean_amount(int(amount))} {name}"
    if style != "en":
        raise ValueError(f"unknown style {style!r}: use 'en' or 'ko'")
    prefix = _EN_SYMBOLS.get(money.currency, money.currency + " ")
    for exponent, word in ((12, "trillion"), (9, "billion"), (6, "million")):
        scaled = format_decimal(amount.scaleb(-exponent, _EXACT))
        if amount >= 10**exponent and len(scaled.partition(".")[2]) <= 3:
            return f"{prefix}{scaled} {word}"
    return f"{money.currency} {_grouped(amount)}"


def _grouped(amount: Decimal) -> str:
    whole, point, fraction = format_decimal(amount).partition(".")
    return f"{int(whole):,}{point}{fraction}"
