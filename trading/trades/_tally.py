"""``FillTally``: what one transaction's stored fills add up to.

The fills are replayed in the order they happened with the live event path's arithmetic:
an entry fill (the entry order, or an order that adds to the position) moves the average
entry price; an exit fill (take-profit, stop-loss, a close or a reduction) realizes
``(price - average entry) x quantity x side sign x multiplier`` and lowers the open
quantity. A restart uses it to tell what happened to a transaction while no trade manager
was listening.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from trading.model import OrderRole, OrderSide
from trading.storage import FillRecord

__all__ = ["FillTally", "tally_fills"]

_EPS = 1e-9
_EXITS = (OrderRole.TAKE_PROFIT, OrderRole.STOP_LOSS, OrderRole.EXIT)


@dataclass(frozen=True, slots=True)
class FillTally:
    entry_quantity: float = 0.0  # bought (sold, for a short) by entry and add orders
    entry_price: float | None = None  # the running average entry price after the last fill
    exit_quantity: float = 0.0
    exit_value: float = 0.0  # sum of quantity x price of the exit fills
    realized_pnl: float = 0.0
    commissions: float = 0.0  # of every fill, entry and exit
    last_exit_role: OrderRole | None = None
    last_entry_at: datetime | None = None
    last_exit_at: datetime | None = None

    @property
    def open_quantity(self) -> float:
        return self.entry_quantity - self.exit_quantity

    @property
    def exit_price(self) -> float | None:
        """The average price of the exit fills (None without any)."""
        return self.exit_value / self.exit_quantity if self.exit_quantity > _EPS else None

    @property
    def is_closed(self) -> bool:
        """True when exit fills cover everything the entry fills opened."""
        return self.entry_quantity > _EPS and self.open_quantity <= _EPS


def tally_fills(fills: Iterable[FillRecord], *, side: OrderSide, multiplier: float) -> FillTally:
    """Replay ``fills`` (in the order they happened) of a transaction on ``side``."""
    entry_qty = exit_qty = exit_value = realized = commissions = 0.0
    avg: float | None = None
    last_exit_role = None
    last_entry_at = last_exit_at = None
    for fill in fills:
        commissions += fill.commission
        if fill.role is OrderRole.ENTRY:
            held = entry_qty - exit_qty
            entry = avg if avg is not None else fill.price
            avg = (entry * held + fill.price * fill.quantity) / (held + fill.quantity)
            entry_qty += fill.quantity
            last_entry_at = fill.ts
        elif fill.role in _EXITS:
            entry = avg if avg is not None else fill.price
            realized += (fill.price - entry) * fill.quantity * side.sign * multiplier
            exit_qty += fill.quantity
            exit_value += fill.quantity * fill.price
            last_exit_role = fill.role
            last_exit_at = fill.ts
    return FillTally(
        entry_quantity=entry_qty,
        entry_price=avg,
        exit_quantity=exit_qty,
        exit_value=exit_value,
        realized_pnl=realized,
        commissions=commissions,
        last_exit_role=last_exit_role,
        last_entry_at=last_entry_at,
        last_exit_at=last_exit_at,
    )
