"""The paper account's books: positions, realized P&L, commissions, and the account view.

Money is exact (``Decimal``): each fill's commission and realized P&L are quantized to the
money quantum as they are booked, and the account's totals are their exact sums, so
``cash == starting balance + realized - commissions`` holds to the last digit.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from trading.broker._state import money_from_dict, position_from_dict, position_to_dict
from trading.broker.base import AccountState
from trading.errors import BrokerStateError
from trading.model import (
    AccountRecord,
    AccountUpdated,
    Instrument,
    OrderSide,
    Position,
    PositionChanged,
    PositionClosed,
    PositionEvent,
    PositionOpened,
    PositionRecord,
    quantize_money,
    to_money,
)
from trading.model.money import ZERO

__all__ = ["Ledger"]

_EPS = 1e-9


class Ledger:
    """Positions per symbol (flat ones kept for their realized P&L) and the account totals."""

    def __init__(
        self,
        instruments: dict[str, Instrument],
        *,
        starting_balance: Decimal,
        buying_power_multiple: float,
    ) -> None:
        self._instruments = instruments
        self._commission = {s: to_money(i.commission) for s, i in instruments.items()}
        self.starting_balance = to_money(starting_balance)
        self.buying_power_multiple = buying_power_multiple
        self.positions: dict[str, Position] = {}
        self.realized_pnl = ZERO
        self.commissions = ZERO
        self.last_fill_id: str | None = None

    def position(self, symbol: str) -> Position:
        pos = self.positions.get(symbol)
        if pos is None:
            pos = self.positions[symbol] = Position(
                symbol=symbol, multiplier=self._instruments[symbol].multiplier
            )
        return pos

    def add_instrument(self, inst: Instrument) -> None:
        """Book ``inst`` from now on (the instruments map is shared with the order book)."""
        self._instruments[inst.symbol] = inst
        self._commission[inst.symbol] = to_money(inst.commission)

    def open_positions(self) -> dict[str, Position]:
        return {s: p for s, p in self.positions.items() if not p.is_flat}

    def apply_fill(
        self, symbol: str, side: OrderSide, quantity: float, price: float, *, strategy: str, now: datetime
    ) -> tuple[Decimal, Decimal, list[PositionEvent]]:
        """Book a fill; return (realized P&L, commission, position events in order), both
        amounts exact on the money quantum.

        A flip (long to short in one fill) is a ``PositionClosed`` carrying the fill's realized
        P&L and commission, then a ``PositionOpened`` for the new side.
        """
        pos = self.position(symbol)
        commission = quantize_money(self._commission[symbol] * to_money(quantity))
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
            return realized, commission, [closed, self._event(PositionOpened, pos, ZERO, ZERO, common)]
        return realized, commission, [self._event(PositionChanged, pos, realized, commission, common)]

    def set_position(
        self,
        symbol: str,
        quantity: float,
        avg_price: float,
        cost_basis: Decimal,
        now: datetime,
        *,
        strategy: str,
    ) -> PositionEvent | None:
        """Make ``symbol``'s position ``quantity`` at ``avg_price`` (exact ``cost_basis``) without a
        fill: no realized P&L, no commission. Returns its event, or None when nothing changed."""
        pos = self.position(symbol)
        flat = abs(quantity) < _EPS
        if pos.quantity == quantity and (flat or pos.cost_basis == cost_basis):
            return None
        was_flat = pos.is_flat
        pos.quantity = 0.0 if flat else quantity
        pos.avg_price = 0.0 if flat else avg_price
        pos.cost_basis = ZERO if flat else cost_basis
        pos.updated_at = now
        pos.strategies.add(strategy)
        kind: type[PositionEvent] = PositionChanged
        if was_flat and not flat:
            pos.opened_at = now
            kind = PositionOpened
        elif flat and not was_flat:
            kind = PositionClosed
        mark = pos.last_price if pos.last_price is not None else avg_price
        common: dict[str, Any] = {"ts": now, "symbol": symbol, "last_price": mark, "strategy": strategy}
        return self._event(kind, pos, ZERO, ZERO, common)

    @staticmethod
    def _event(
        kind: type[PositionEvent],
        pos: Position,
        realized: Decimal,
        commission: Decimal,
        common: dict[str, Any],
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
        equity = float(cash) + unrealized
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

    # --- journal records -------------------------------------------------------------

    def account_record(self, now: datetime | None) -> AccountRecord:
        return AccountRecord(
            starting_balance=self.starting_balance,
            realized_pnl=self.realized_pnl,
            commissions=self.commissions,
            last_fill_id=self.last_fill_id,
            updated_at=now,
        )

    def position_record(self, symbol: str) -> PositionRecord:
        pos = self.positions[symbol]
        return PositionRecord(
            symbol=symbol,
            quantity=pos.quantity,
            avg_price=pos.avg_price,
            cost_basis=pos.cost_basis,
            realized_pnl=pos.realized_pnl,
            commissions=pos.commissions,
            last_price=pos.last_price,
            opened_at=pos.opened_at,
            updated_at=pos.updated_at,
            strategies=tuple(sorted(pos.strategies)),
        )

    def kept_symbols(self) -> list[str]:
        """Symbols whose position the books keep: open ones, and flat ones with realized P&L."""
        return [s for s, p in self.positions.items() if not p.is_flat or p.realized_pnl or p.commissions]

    def position_from_record(self, record: PositionRecord) -> Position:
        """A journal's position row as a ``Position``; ``BrokerStateError`` for an unknown symbol."""
        inst = self._instruments.get(record.symbol)
        if inst is None:
            raise BrokerStateError(
                f"journal position {record.symbol!r}: not an instrument of this broker "
                f"(known: {', '.join(sorted(self._instruments))})"
            )
        position = Position(
            symbol=record.symbol,
            multiplier=inst.multiplier,
            quantity=record.quantity,
            avg_price=record.avg_price,
            realized_pnl=record.realized_pnl,
            commissions=record.commissions,
            last_price=record.last_price,
            opened_at=record.opened_at,
            updated_at=record.updated_at,
            strategies=set(record.strategies),
            cost_basis=record.cost_basis,
        )
        return position

    # --- persistence (the v1 account blob) ------------------------------------------

    def export(self) -> dict[str, Any]:
        """The books as JSON-able data; money as decimal text (exact)."""
        return {
            "starting_balance": str(self.starting_balance),
            "realized_pnl": str(self.realized_pnl),
            "commissions": str(self.commissions),
            "cash": str(self.starting_balance + self.realized_pnl - self.commissions),
            "positions": [position_to_dict(self.positions[s]) for s in self.kept_symbols()],
        }

    def read(self, data: dict[str, Any]) -> tuple[Decimal, Decimal, Decimal, dict[str, Position]]:
        """Validate a saved ledger (money as numbers or decimal text); return (starting
        balance, realized, commissions, positions)."""
        starting, realized, commissions = (
            money_from_dict(data.get(name), f"state.{name}")
            for name in ("starting_balance", "realized_pnl", "commissions")
        )
        if starting <= 0:
            raise BrokerStateError(f"state.starting_balance must be > 0, got {starting}")
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
        return starting, realized, commissions, positions

    def replace(
        self,
        starting: Decimal,
        realized: Decimal,
        commissions: Decimal,
        positions: dict[str, Position],
        last_fill_id: str | None = None,
    ) -> None:
        self.starting_balance = starting
        self.realized_pnl = realized
        self.commissions = commissions
        self.positions = positions
        self.last_fill_id = last_fill_id
