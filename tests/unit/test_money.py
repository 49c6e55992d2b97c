"""Money as articles print it: parsing, refusing ambiguity, and writing it back exactly."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.money import (
    CURRENCIES,
    AmountParseError,
    Money,
    format_money,
    parse_decimal,
    parse_money,
)


def money(amount: str, currency: str) -> Money:
    return Money(Decimal(amount), currency)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$8 billion", money("8000000000", "USD")),
        ("8B USD", money("8000000000", "USD")),
        ("USD 8,000,000,000", money("8000000000", "USD")),
        ("8.25 bn dollars", money("8250000000", "USD")),
        ("80억달러", money("8000000000", "USD")),
        ("615억 달러", money("61500000000", "USD")),
        ("1조2천억원", money("1200000000000", "KRW")),
        ("3억 유로", money("300000000", "EUR")),
        ("€300m", money("300000000", "EUR")),
        ("£1.2bn", money("1200000000", "GBP")),
    ],
)
def test_every_amount_listed_in_the_spec_is_read_exactly(text: str, expected: Money) -> None:
    assert parse_money(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$1.25B", money("1250000000", "USD")),
        ("1.25 billion USD", money("1250000000", "USD")),
        ("US$1.5 billion", money("1500000000", "USD")),
        ("$500k", money("500000", "USD")),
        ("2.5 million euros", money("2500000", "EUR")),
        ("KRW 1,200,000,000,000", money("1200000000000", "KRW")),
        ("krw 5 trillion", money("5000000000000", "KRW")),
        ("10 Billion Won", money("10000000000", "KRW")),
        ("USD 1,234.56", money("1234.56", "USD")),
        ("HK$3.2bn", money("3200000000", "HKD")),
        ("50 mln pounds", money("50000000", "GBP")),
        ("1.2T USD", money("1200000000000", "USD")),
    ],
)
def test_english_units_and_currencies_are_read_exactly(text: str, expected: Money) -> None:
    assert parse_money(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("₩3000억", money("300000000000", "KRW")),
        ("3000억원", money("300000000000", "KRW")),
        ("5천만원", money("50000000", "KRW")),
        ("천만원", money("10000000", "KRW")),
        ("1만 달러", money("10000", "USD")),
        ("3천5백억원", money("350000000000", "KRW")),
        ("2조 5000억 원", money("2500000000000", "KRW")),
        ("1조 2,000억 원", money("1200000000000", "KRW")),
        ("8억 5천만 원", money("850000000", "KRW")),
        ("1.2조원", money("1200000000000", "KRW")),
        ("80억불", money("8000000000", "USD")),
        ("10억 엔", money("1000000000", "JPY")),
        ("50억 위안화", money("5000000000", "CNY")),
        ("1조 2000억 KRW", money("1200000000000", "KRW")),
    ],
)
def test_korean_units_combine_into_exact_amounts(text: str, expected: Money) -> None:
    assert parse_money(text) == expected


def test_full_width_digits_and_signs_are_normalised_first() -> None:
    assert parse_money("８０억달러") == money("8000000000", "USD")
    assert parse_money("＄８ billion") == money("8000000000", "USD")


def test_an_ambiguous_sign_is_accepted_when_an_iso_code_settles_it() -> None:
    assert parse_money("¥10 billion JPY") == money("10000000000", "JPY")
    assert parse_money("¥10 billion CNY") == money("10000000000", "CNY")


def test_korean_amount_without_currency_is_rejected_as_ambiguous() -> None:
    with pytest.raises(AmountParseError, match=r"no currency.*KRW or USD"):
        parse_money("80억")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("dollars", "no number"),
        ("억원", "no number"),
        ("8 billion", "no currency"),
        ("$5 million EUR", "two different currencies"),
        ("80억 달러 원", "two different currencies"),
        ("-$5 million", "negative"),
        ("$-5 million", "negative"),
        ("$5-6 billion", "range"),
        ("8 zillion dollars", "unknown word 'zillion'"),
        ("약 80억 달러", "unknown word '약'"),
        ("1,2,3 USD", "malformed number '1,2,3'"),
        ("1.2.3 USD", "malformed number '1.2.3'"),
        ("€ 1,5 Mrd", "malformed number '1,5'"),
        ("¥10 billion", "ambiguous currency.*CNY or JPY"),
        ("500 kr", "ambiguous currency.*SEK"),
        ("$5 $6", "more than one amount"),
        ("5 million billion USD", "one unit"),
        ("1조 billion USD", "one unit"),
        ("12천억원", "single digit"),
        ("1조 12000억원", "too large"),
        ("3천5200억원", "too large"),
        ("1억2조원", "cannot follow"),
        ("$8 (billion)", "unexpected character"),
        ("9" * 50 + " USD", "too many digits"),
    ],
)
def test_unreadable_text_is_rejected_with_the_reason(text: str, reason: str) -> None:
    with pytest.raises(AmountParseError, match=reason):
        parse_money(text)


def test_amounts_are_exact_decimals_never_floats() -> None:
    parsed = parse_money("0.1 million USD")
    assert parsed.amount == Decimal("100000")
    assert isinstance(parsed.amount, Decimal)
    assert parse_money("USD 0.30").amount == Decimal("0.3")


@pytest.mark.parametrize(
    ("value", "style", "text"),
    [
        (money("8000000000", "USD"), "en", "$8 billion"),
        (money("8250000000", "USD"), "en", "$8.25 billion"),
        (money("1200000000000", "KRW"), "en", "KRW 1.2 trillion"),
        (money("8000000001", "USD"), "en", "USD 8,000,000,001"),
        (money("8000000000", "USD"), "ko", "80억 달러"),
        (money("1200000000000", "KRW"), "ko", "1조 2000억 원"),
        (money("5000000000", "HKD"), "ko", "50억 HKD"),
        (money("1234.5", "USD"), "ko", "1,234.5 달러"),
    ],
)
def test_money_is_written_as_articles_print_it(value: Money, style: str, text: str) -> None:
    assert format_money(value, style) == text


def test_writing_refuses_what_cannot_be_read_back() -> None:
    with pytest.raises(ValueError, match="negative"):
        format_money(money("-5", "USD"))
    with pytest.raises(ValueError, match="unsupported currency"):
        format_money(money("5", "XXX"))
    with pytest.raises(ValueError, match="unknown style"):
        format_money(money("5", "USD"), "fr")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("12.5", "12.5"), ("0", "0"), (" 7 ", "7"), (".5", "0.5"), ("1e3", "1000"), ("-3", "-3")],
)
def test_decimal_strings_are_parsed_exactly(text: str, expected: str) -> None:
    assert parse_decimal(text) == Decimal(expected)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("NaN", "not a finite number"),
        ("-Infinity", "not a finite number"),
        ("inf", "not a finite number"),
        ("1e999999999", "exponent out of range"),
        ("0e999999999", "exponent out of range"),
        ("1e-99", "exponent out of range"),
        ("twelve", "not a decimal number"),
        ("12.5%", "not a decimal number"),
        ("", "not a decimal number"),
    ],
)
def test_decimal_strings_that_are_not_finite_numbers_are_rejected(text: str, reason: str) -> None:
    with pytest.raises(AmountParseError, match=reason):
        parse_decimal(text)


amounts = st.one_of(
    st.decimals(min_value=0, max_value=Decimal("1e18"), places=3, allow_nan=False),
    st.builds(
        lambda digits, exponent: Decimal(digits).scaleb(exponent),
        st.integers(min_value=0, max_value=99_999),
        st.integers(min_value=0, max_value=14),
    ),
)
monies = st.builds(Money, amounts, st.sampled_from(sorted(CURRENCIES)))


@given(monies, st.sampled_from(["en", "ko"]))
def test_written_money_reads_back_to_the_same_money(value: Money, style: str) -> None:
    assert parse_money(format_money(value, style)) == value


@given(monies)
def test_money_survives_the_wire_form(value: Money) -> None:
    assert Money.from_json(value.to_json()) == value
