"""Money that decides is exact: ``Decimal`` amounts, booked on a fixed quantum.

Prices and quantities stay floats (they come from feeds and configs as floats); money is
made from them exactly: a float goes through its shortest ``repr`` (``4995.25`` becomes
``Decimal('4995.25')``, ``0.1`` becomes ``Decimal('0.1')``), so a price on a tick grid
times a quantity times a multiplier is the decimal number a person would write. Every
realized P&L and commission the books hold is quantized to ``MONEY_QUANTUM`` (1e-8, half
to even), so sums of booked amounts are exact and "reaches the limit" can fire at equality.
Floats remain for display, charts and per-tick marks.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

__all__ = ["MONEY_QUANTUM", "ZERO", "Money", "quantize_money", "to_money"]

Money = Decimal
MONEY_QUANTUM = Decimal("1e-8")
ZERO = Decimal(0)


def to_money(value: int | float | str | Decimal) -> Decimal:
    """``value`` as an exact ``Decimal``: an int or a numeral string as written, a float
    through its shortest ``repr``. Refuses bools, NaN and infinities (``ValueError``) and
    anything else (``TypeError``)."""
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, bool):
        raise TypeError(f"money must be a number, got the bool {value!r}")
    elif isinstance(value, int):
        return Decimal(value)
    elif isinstance(value, float):
        result = Decimal(repr(value))
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except ArithmeticError:
            raise ValueError(f"money must be a decimal numeral, got {value!r}") from None
    else:
        raise TypeError(f"money must be an int, float, str or Decimal, got {type(value).__name__} {value!r}")
    if not result.is_finite():
        raise ValueError(f"money must be finite, got {value!r}")
    return result


def quantize_money(amount: Decimal) -> Decimal:
    """``amount`` on the money quantum (1e-8), half to even: how every booked amount is held."""
    return amount.quantize(MONEY_QUANTUM, rounding=ROUND_HALF_EVEN)
