"""Exact money: Decimal amounts with ISO 4217 currencies, and parsing of amounts as articles print them."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any


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


def format_decimal(value: Decimal) -> str:
    """Format a Decimal without exponent and without trailing fractional zeros."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"
