"""Net positions with realized and unrealized P&L."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from trading.model.enums import OrderSide
from trading.model.money import ZERO, quantize_money, to_money

__all__ = ["Position"]

_EPS = 1e-9


@dataclass(slots=True, kw_only=True)
class Position:
    """Net position in one symbol. ``quantity`` is signed: long > 0, short < 0.

    P&L is in money: price points times ``multiplier``. ``realized_pnl`` (gross of
    commissions) and ``commissions`` are exact ``Decimal`` money, each fill's amount
    quantized to ``MONEY_QUANTUM``. ``cost_basis`` is the exact money paid for the open
    quantity (``|quantity| x average price x multiplier``, made from the fills' prices);
    realized P&L is taken from it, so a round trip realizes exactly ``(exit - entry) x
    quantity x multiplier``. A position made with a quantity and no ``cost_basis`` gets it
    from ``avg_price``. ``avg_price`` and the unrealized P&L are floats, for display and
    the per-tick marks.
    """

    symbol: str
    multiplier: float = 1.0
    quantity: float = 0.0
    avg_price: float = 0.0
    realized_pnl: Decimal = ZERO
    commissions: Decimal = ZERO
    last_price: float | None = None
    opened_at: datetime | None = None
    updated_at: datetime | None = None
    strategies: set[str] = field(default_factory=set)
    cost_basis: Decimal = ZERO

    def __post_init__(self) -> None:
        self.realized_pnl = to_money(self.realized_pnl)
        self.commissions = to_money(self.commissions)
        self.cost_basis = to_money(self.cost_basis)
        if not self.cost_basis and not self.is_flat:
            self.cost_basis = (
                to_money(abs(self.quantity)) * to_money(self.avg_price) * self._money_multiplier()
            )

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

    def _money_multiplier(self) -> Decimal:
        return to_money(self.multiplier)

    def apply_fill(
        self, side: OrderSide, quantity: float, price: float, commission: Decimal | float = ZERO
    ) -> Decimal:
        """Apply a fill; return the realized P&L (gross, exact, on the money quantum) it produced."""
        signed = side.sign * quantity
        realized = ZERO
        self.commissions += to_money(commission)
        mult = self._money_multiplier()
        exact_price = to_money(price)
        if self.is_flat or (self.quantity > 0) == (signed > 0):
            new_qty = self.quantity + signed
            self.cost_basis = (ZERO if self.is_flat else self.cost_basis) + (
                exact_price * to_money(quantity) * mult
            )
            self.quantity = new_qty
            self.avg_price = float(self.cost_basis / (to_money(abs(new_qty)) * mult))
        else:
            held = abs(self.quantity)
            closing = min(quantity, held)
            direction = 1 if self.quantity > 0 else -1
            closed_value = exact_price * to_money(closing) * mult
            removed = (
                self.cost_basis if closing >= held else self.cost_basis * to_money(closing) / to_money(held)
            )
            realized = quantize_money(direction * (closed_value - removed))
            remaining = self.quantity + signed
            if abs(remaining) < _EPS:
                self.quantity = 0.0
                self.avg_price = 0.0
                self.cost_basis = ZERO
            elif (remaining > 0) == (self.quantity > 0):
                # Reduced: the average is unchanged; what the booked P&L did not take stays in
                # the cost basis, so the position's total realized P&L is exact when it closes.
                self.quantity = remaining
                self.cost_basis -= closed_value - direction * realized
            else:
                self.quantity = remaining  # flipped: the rest opens at the fill price
                self.avg_price = price
                self.cost_basis = exact_price * to_money(abs(remaining)) * mult
        self.realized_pnl += realized
        self.last_price = price
        return realized
