"""One open position at the fake broker: signed quantity and average entry price."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

__all__ = ["FakePosition"]


@dataclass(eq=False)
class FakePosition:
    symbol: str
    asset_id: str
    qty: Decimal  # positive long, negative short, as Alpaca reports it
    avg_entry_price: Decimal
    # Price the intraday P&L is measured from: the last session's close for a position held
    # over ``AccountBook.roll_day``; None for one opened today (measured from its entry).
    lastday_price: Decimal | None = None

    @property
    def side(self) -> str:
        return "long" if self.qty > 0 else "short"

    def apply_fill(self, signed_qty: Decimal, price: Decimal) -> Decimal:
        """Add a fill (positive buys, negative sells); returns the P&L it realized."""
        if self.qty == 0 or (self.qty > 0) == (signed_qty > 0):
            total = abs(self.qty) + abs(signed_qty)
            self.avg_entry_price = (abs(self.qty) * self.avg_entry_price + abs(signed_qty) * price) / total
            self.qty += signed_qty
            return Decimal(0)
        closing = min(abs(signed_qty), abs(self.qty))
        direction = Decimal(1) if self.qty > 0 else Decimal(-1)
        realized = closing * (price - self.avg_entry_price) * direction
        self.qty += signed_qty
        if self.qty != 0 and (self.qty > 0) != (direction > 0):
            # Crossed through flat: what is left was opened at this fill's price.
            self.avg_entry_price = price
            self.lastday_price = None
        return realized
