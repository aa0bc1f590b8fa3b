"""The paper account's books: positions, realized P&L, commissions, and the account view."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from trading.broker._state import position_from_dict, position_to_dict
from trading.broker.base import AccountState
from trading.errors import BrokerStateError
from trading.model import (
    AccountUpdated,
    Instrument,
    OrderSide,
    Position,
    PositionChanged,
    PositionClosed,
    PositionEvent,
    PositionOpened,
)

__all__ = ["Ledger"]


class Ledger:
    """Positions per symbol (flat ones kept for their realized P&L) and the account totals."""

    def __init__(
        self, instruments: dict[str, Instrument], *, starting_balance: float, buying_power_multiple: float
    ) -> None:
        self._instruments = instruments
        self.starting_balance = starting_balance
        self.buying_power_multiple = buying_power_multiple
        self.positions: dict[str, Position] = {}
        self.realized_pnl = 0.0
        self.commissions = 0.0

    def position(self, symbol: str) -> Position:
        pos = self.positions.get(symbol)
        if pos is None:
            pos = self.positions[symbol] = Position(
                symbol=symbol, multiplier=self._instruments[symbol].multiplier
            )
        return pos

    def open_positions(self) -> dict[str, Position]:
        return {s: p for s, p in self.positions.items() if not p.is_flat}

    def apply_fill(
        self, symbol: str, side: OrderSide, quantity: float, price: float, *, strategy: str, now: datetime
    ) -> tuple[float, float, list[PositionEvent]]:
        """Book a fill; return (realized P&L, commission, position events in order).

        A flip (long to short in one fill) is a ``PositionClosed`` carrying the fill's realized
        P&L and commission, then a ``PositionOpened`` for the new side.
        """
        pos = self.position(symbol)
        commission = self._instruments[symbol].commission * quantity
        before_qty, before_avg = pos.quantity, pos.avg_price
        was_flat = pos.is_flat
        realized = pos.apply_fill(side, quantity, price, commission)
        pos.updated_at = now
        pos.strategies.add(strategy)
        self.realized_pnl += realized
        self.commissions += commission
        common: dict[str, Any] = {"ts": now, "symbol": symbol, "last_price": price, "strategy": strategy}
        if was_flat:
            pos.opened_at = now
            return realized, commission, [self._event(PositionOpened, pos, realized, commission, common)]
        if pos.is_flat:
            return realized, commission, [self._event(PositionClosed, pos, realized, commission, common)]
        if (pos.quantity > 0) != (before_qty > 0):
            closed = PositionClosed(
                quantity=0.0,
                avg_price=before_avg,
                realized_pnl=pos.realized_pnl,
                realized_delta=realized,
                commission=commission,
                **common,
            )
            pos.opened_at = now
            return realized, commission, [closed, self._event(PositionOpened, pos, 0.0, 0.0, common)]
        return realized, commission, [self._event(PositionChanged, pos, realized, commission, common)]

    @staticmethod
    def _event(
        kind: type[PositionEvent], pos: Position, realized: float, commission: float, common: dict[str, Any]
    ) -> PositionEvent:
        return kind(
            quantity=pos.quantity,
            avg_price=pos.avg_price,
            realized_pnl=pos.realized_pnl,
            realized_delta=realized,
            commission=commission,
            **common,
        )

    def account(self) -> AccountState:
        unrealized = 0.0
        exposure = 0.0
        for pos in self.positions.values():
            if pos.is_flat:
                continue
            unrealized += pos.unrealized_pnl()
            mark = pos.last_price if pos.last_price is not None else pos.avg_price
            exposure += abs(pos.quantity) * mark * pos.multiplier
        cash = self.starting_balance + self.realized_pnl - self.commissions
        equity = cash + unrealized
        return AccountState(
            cash=cash,
            equity=equity,
            buying_power=max(0.0, equity * self.buying_power_multiple - exposure),
            realized_pnl=self.realized_pnl,
            unrealized_pnl=unrealized,
            commissions=self.commissions,
            starting_balance=self.starting_balance,
        )

    def account_updated(self, now: datetime) -> AccountUpdated:
        """The account view as the event published after a step with fills."""
        acct = self.account()
        return AccountUpdated(
            ts=now,
            cash=acct.cash,
            equity=acct.equity,
            buying_power=acct.buying_power,
            realized_pnl=acct.realized_pnl,
            unrealized_pnl=acct.unrealized_pnl,
        )

    # --- persistence ---------------------------------------------------------------

    def export(self) -> dict[str, Any]:
        return {
            "starting_balance": self.starting_balance,
            "realized_pnl": self.realized_pnl,
            "commissions": self.commissions,
            "cash": self.starting_balance + self.realized_pnl - self.commissions,
            "positions": [
                position_to_dict(p) for p in self.positions.values() if not p.is_flat or p.realized_pnl
            ],
        }

    def read(self, data: dict[str, Any]) -> tuple[float, float, float, dict[str, Position]]:
        """Validate a saved ledger; return (starting balance, realized, commissions, positions)."""
        numbers = []
        for name in ("starting_balance", "realized_pnl", "commissions"):
            value = data.get(name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
                raise BrokerStateError(f"state.{name}: expected a number, got {value!r}")
            numbers.append(float(value))
        if numbers[0] <= 0:
            raise BrokerStateError(f"state.starting_balance must be > 0, got {numbers[0]}")
        raw = data.get("positions", [])
        if not isinstance(raw, list):
            raise BrokerStateError(f"state.positions: expected a list, got {type(raw).__name__}")
        positions: dict[str, Position] = {}
        for i, item in enumerate(raw):
            where = f"state.positions[{i}]"
            symbol = item.get("symbol") if isinstance(item, dict) else None
            if symbol not in self._instruments:
                raise BrokerStateError(
                    f"{where}: unknown symbol {symbol!r} (known: {', '.join(sorted(self._instruments))})"
                )
            if symbol in positions:
                raise BrokerStateError(f"{where}: symbol {symbol!r} appears twice")
            positions[symbol] = position_from_dict(item, where, self._instruments[symbol].multiplier)
        return numbers[0], numbers[1], numbers[2], positions

    def replace(
        self, starting: float, realized: float, commissions: float, positions: dict[str, Position]
    ) -> None:
        self.starting_balance = starting
        self.realized_pnl = realized
        self.commissions = commissions
        self.positions = positions
