"""Korean number units, read and written exactly: 만, 억, 조 groups with 천, 백, 십 inside them."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

DIGIT_PLACES = {"십": 10, "백": 100, "천": 1000}
GROUP_UNITS = {"만": 10**4, "억": 10**8, "조": 10**12}
UNIT_CHARACTERS = frozenset(DIGIT_PLACES) | frozenset(GROUP_UNITS)
_GROUP_LIMIT = 10**4


class _Group:
    """The number written before one group unit, such as 3천5백 in 3천5백억."""

    def __init__(self) -> None:
        self.places_total = Decimal(0)
        self.smallest_place: int | None = None
        self.pending: Decimal | None = None

    @property
    def empty(self) -> bool:
        return self.smallest_place is None and self.pending is None

    def add_number(self, number: Decimal) -> None:
        if self.pending is not None:
            raise ValueError(f"two numbers in a row ({self.pending} then {number})")
        self.pending = number

    def add_place(self, symbol: str) -> None:
        place = DIGIT_PLACES[symbol]
        if self.smallest_place is not None and place >= self.smallest_place:
            raise ValueError(f"{symbol} cannot follow a unit of the same or smaller size")
        digit = Decimal(1) if self.pending is None else self.pending
        if digit not in range(1, 10):
            raise ValueError(f"only a single digit 1-9 can stand before {symbol}, not {digit}")
        self.places_total += digit * place
        self.smallest_place, self.pending = place, None

    def value(self) -> Decimal:
        rest = self.pending or Decimal(0)
        if self.smallest_place is not None and rest >= self.smallest_place:
            raise ValueError(f"{rest} is too large to follow a digit unit (천, 백, 십)")
        return self.places_total + rest


def read_korean_amount(parts: Sequence[Decimal | str]) -> Decimal:
    """Combine numbers and unit characters, as in 1 조 2 천 억, into one exact amount."""
    total = Decimal(0)
    group = _Group()
    previous_unit: int | None = None
    for part in parts:
        if isinstance(part, Decimal):
            group.add_number(part)
        elif part in DIGIT_PLACES:
            group.add_place(part)
        else:
            unit = GROUP_UNITS[part]
            if group.empty:
                raise ValueError(f"no number before {part}")
            if previous_unit is not None and unit >= previous_unit:
                raise ValueError(f"{part} cannot follow a unit of the same or smaller size")
            total += _checked(group.value(), previous_unit, part) * unit
            group, previous_unit = _Group(), unit
    if not group.empty:
        total += _checked(group.value(), previous_unit, "")
    return total


def _checked(coefficient: Decimal, previous_unit: int | None, symbol: str) -> Decimal:
    # After 조 the 억 part must stay below 1만 (10000), or the text counts the same place twice.
    if previous_unit is not None and coefficient >= _GROUP_LIMIT:
        raise ValueError(f"{coefficient}{symbol} is too large to follow a larger unit (max 9999)")
    return coefficient


def write_korean_amount(amount: int) -> str:
    """Write a whole non-negative amount in 조, 억 and 만 groups: 1200000000000 as 1조 2000억."""
    parts = []
    for symbol, unit in sorted(GROUP_UNITS.items(), key=lambda item: -item[1]):
        coefficient, amount = divmod(amount, unit)
        if coefficient:
            parts.append(f"{coefficient}{symbol}")
    if amount or not parts:
        parts.append(str(amount))
    return " ".join(parts)
