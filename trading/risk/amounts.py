"""Exact money in risk: the config type of a money limit, and the guard band for float marks.

A money limit, floor or target in a rule config is an ``Amount``: written as a plain number
(strict: an int or a float, finite, never a bool or text), held as an exact ``Decimal`` made
from what was written (``1000.10`` is ``Decimal('1000.1')``). Realized P&L and commissions are
``Decimal`` too (``trading.model.money``), so a rule on realized money fires exactly *at* its
limit: three round trips netting -1,000.00 reach a 1,000 loss limit.

Unrealized P&L and equity move with every tick and are floats (cheap per tick). A rule that
compares them with an exact limit uses a guard band: when the float is clearly away from the
limit (more than ``GUARD`` x the limit's size, at least ``GUARD``) the float decides; inside
the band the exact value decides, computed from the marks and average prices as ``Decimal``.
So a float rounding error can never move a decision made at the limit itself.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator

from trading.model.money import to_money

__all__ = ["GUARD", "Amount", "at_least", "at_most", "band", "show_amount", "strict_amount"]

GUARD = 1e-6  # relative width of the band in which the exact value decides


def strict_amount(value: Any) -> Any:
    """An int or a finite float as an exact ``Decimal`` (a ``Decimal`` passes); anything else
    (a bool, text, a non-finite float) is refused with what a money field allows."""
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("a finite number")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("a finite number")
    return to_money(value)


# Bounds go on the field as floats (``Field(gt=0.0)``), so a refusal reads "a number > 0.0"
# like every other number field of the config files.
Amount = Annotated[Decimal, BeforeValidator(strict_amount)]


def band(limit: Decimal) -> float:
    """The half-width of the guard band around ``limit`` (in money)."""
    return GUARD * max(1.0, abs(float(limit)))


def at_least(approx: float, limit: float, width: float, exact: Callable[[], Decimal], bound: Decimal) -> bool:
    """``value >= bound``: ``approx`` (a float near ``value``) decides outside ``limit +/- width``
    (``limit`` is ``float(bound)``), ``exact()`` decides inside."""
    if approx > limit + width:
        return True
    if approx < limit - width:
        return False
    return exact() >= bound


def at_most(approx: float, limit: float, width: float, exact: Callable[[], Decimal], bound: Decimal) -> bool:
    """``value <= bound``, with the same guard band as ``at_least``."""
    if approx < limit - width:
        return True
    if approx > limit + width:
        return False
    return exact() <= bound


def show_amount(value: Decimal) -> str:
    """A limit as a person wrote it: ``Decimal('2500.0')`` -> ``2500``, ``Decimal('1000.10')`` ->
    ``1000.1`` (never an exponent)."""
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")
