"""Tradable instruments."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class Instrument:
    """A tradable symbol.

    ``multiplier`` converts one point of price into money for one contract or share
    (an E-mini S&P future is 50, a stock is 1). ``commission`` is charged per contract
    or share on every fill.
    """

    symbol: str
    tick_size: float
    multiplier: float = 1.0
    currency: str = "USD"
    commission: float = 0.0
    asset_class: str = "FUTURE"

    def __post_init__(self) -> None:
        if not self.symbol:
            raise ValueError("instrument symbol must not be empty")
        if self.tick_size <= 0:
            raise ValueError(f"{self.symbol}: tick_size must be > 0, got {self.tick_size}")
        if self.multiplier <= 0:
            raise ValueError(f"{self.symbol}: multiplier must be > 0, got {self.multiplier}")
        if self.commission < 0:
            raise ValueError(f"{self.symbol}: commission must be >= 0, got {self.commission}")

    def round_price(self, price: float) -> float:
        """Round to the nearest tick (exact in decimal, so 0.1 + 0.2 style noise never leaks)."""
        ticks = round(price / self.tick_size)
        step = Decimal(str(self.tick_size))
        return float(step * ticks)

    def is_on_tick(self, price: float) -> bool:
        """``price`` is a whole number of ticks (a float's noise, a billionth of a tick, aside)."""
        ticks = price / self.tick_size
        return abs(ticks - round(ticks)) <= 1e-9 * max(1.0, abs(ticks))

    def tick_below(self, price: float) -> float:
        """The highest tick at or below ``price`` (``price`` itself when it is on a tick)."""
        if self.is_on_tick(price):
            return self.round_price(price)
        return float(Decimal(str(self.tick_size)) * math.floor(price / self.tick_size))

    def tick_above(self, price: float) -> float:
        """The lowest tick at or above ``price`` (``price`` itself when it is on a tick)."""
        if self.is_on_tick(price):
            return self.round_price(price)
        return float(Decimal(str(self.tick_size)) * math.ceil(price / self.tick_size))

    def off_tick(self, price: float, what: str) -> str | None:
        """Why ``price`` cannot be a ``what`` ("limit price") on this instrument, or None: an
        exchange refuses a price between two ticks rather than move it."""
        if self.is_on_tick(price):
            return None
        return (
            f"{what} {price:g} is not a multiple of the {self.symbol} tick size {self.tick_size:g} "
            f"(nearest valid prices {self.tick_below(price):g} and {self.tick_above(price):g})"
        )
