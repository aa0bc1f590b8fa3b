"""Net positions with realized and unrealized P&L."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from trading.model.enums import OrderSide

__all__ = ["Position"]

_EPS = 1e-9


@dataclass(slots=True, kw_only=True)
class Position:
    """Net position in one symbol. ``quantity`` is signed: long > 0, short < 0.

    P&L is in money: price points times ``multiplier``. ``realized_pnl`` is gross of
    commissions; ``commissions`` holds what the fills cost.
    """

    symbol: str
    multiplier: float = 1.0
    quantity: float = 0.0
    avg_price: float = 0.0
    realized_pnl: float = 0.0
    commissions: float = 0.0
    last_price: float | None = None
    opened_at: datetime | None = None
    updated_at: datetime | None = None
    strategies: set[str] = field(default_factory=set)

    @property
    def is_flat(self) -> bool:
        return abs(self.quantity) < _EPS

    @property
    def side(self) -> OrderSide | None:
        if self.is_flat:
            return None
        return OrderSide.BUY if self.quantity > 0 else OrderSide.SELL

    def unrealized_pnl(self, price: float | None = None) -> float:
        mark = self.last_price if price is None else price
        if mark is None or self.is_flat:
            return 0.0
        return (mark - self.avg_price) * self.quantity * self.multiplier

    def apply_fill(self, side: OrderSide, quantity: float, price: float, commission: float = 0.0) -> float:
        """Apply a fill; return the realized P&L (gross) it produced."""
        signed = side.sign * quantity
        realized = 0.0
        self.commissions += commission
        if self.is_flat or (self.quantity > 0) == (signed > 0):
            new_qty = self.quantity + signed
            self.avg_price = (self.avg_price * self.quantity + price * signed) / new_qty
            self.quantity = new_qty
        else:
            closing = min(abs(signed), abs(self.quantity))
            direction = 1.0 if self.quantity > 0 else -1.0
            realized = (price - self.avg_price) * closing * direction * self.multiplier
            remaining = self.quantity + signed
            if abs(remaining) < _EPS:
                self.quantity = 0.0
                self.avg_price = 0.0
            elif (remaining > 0) == (self.quantity > 0):
                self.quantity = remaining  # reduced, average unchanged
            else:
                self.quantity = remaining  # flipped: the rest opens at the fill price
                self.avg_price = price
        self.realized_pnl += realized
        self.last_price = price
        return realized
