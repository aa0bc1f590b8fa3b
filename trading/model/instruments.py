"""Tradable instruments."""

from __future__ import annotations

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
