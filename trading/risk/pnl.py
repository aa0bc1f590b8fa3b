"""PnLTracker: realized and unrealized P&L per day and per symbol, from broker events.

It is fed ``PositionOpened/Changed/Closed`` (realized P&L and commission of each fill) and
``MarketDataUpdated`` (marks). Equity is kept incrementally so rules read it in O(1).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple

from trading.model import MarketDataUpdated, PositionClosed, PositionEvent

__all__ = ["DayPnL", "PnLStatistics", "PnLTracker", "SymbolPnL"]

logger = logging.getLogger(__name__)

_EPS = 1e-9


class SymbolPnL:
    """One symbol's position and P&L as the risk engine sees it."""

    __slots__ = (
        "avg_price",
        "commissions_today",
        "last_price",
        "multiplier",
        "quantity",
        "realized_today",
        "symbol",
        "trades_today",
        "unrealized",
    )

    def __init__(self, symbol: str, multiplier: float) -> None:
        self.symbol = symbol
        self.multiplier = multiplier
        self.quantity = 0.0
        self.avg_price = 0.0
        self.last_price: float | None = None
        self.unrealized = 0.0
        self.realized_today = 0.0
        self.commissions_today = 0.0
        self.trades_today = 0

    @property
    def is_flat(self) -> bool:
        return -_EPS < self.quantity < _EPS

    def __repr__(self) -> str:
        return (
            f"SymbolPnL({self.symbol} qty={self.quantity:g} avg={self.avg_price:g} "
            f"unrealized={self.unrealized:.2f} realized_today={self.realized_today:.2f})"
        )


@dataclass(frozen=True, slots=True)
class DayPnL:
    day: date
    realized: float
    commissions: float
    closed_trades: int

    @property
    def net(self) -> float:
        return self.realized - self.commissions


class PnLStatistics(NamedTuple):
    updates: int
    open_positions: int
    daily_net: float
    unrealized: float
    equity: float
    days: int


class PnLTracker:
    """Realized (gross), commissions and unrealized P&L for the current trading day.

    ``cash`` starts at the broker's cash and moves by realized P&L minus commissions;
    ``equity`` is cash plus unrealized. ``history`` keeps one ``DayPnL`` per finished day.
    """

    def __init__(
        self,
        *,
        cash: float | Decimal,
        trading_day: date,
        multiplier: Callable[[str], float] | None = None,
    ) -> None:
        self._multiplier = multiplier or (lambda symbol: 1.0)
        self.symbols: dict[str, SymbolPnL] = {}
        self.trading_day = trading_day
        self.cash = float(cash)
        self.unrealized = 0.0
        self.daily_realized = 0.0
        self.daily_commissions = 0.0
        self.daily_closed_trades = 0
        self.total_realized = 0.0
        self.total_commissions = 0.0
        self.equity = self.cash
        self.high_water = self.cash
        self._history: dict[date, DayPnL] = {}
        self.updates = 0

    # --- reading -----------------------------------------------------------------

    @property
    def daily_net(self) -> float:
        """Today's realized P&L net of today's commissions."""
        return self.daily_realized - self.daily_commissions

    @property
    def daily_pnl(self) -> float:
        """Today's realized net plus the open positions' unrealized P&L."""
        return self.daily_realized - self.daily_commissions + self.unrealized

    def symbol(self, symbol: str) -> SymbolPnL:
        found = self.symbols.get(symbol)
        if found is None:
            found = self.symbols[symbol] = SymbolPnL(symbol, float(self._multiplier(symbol)))
        return found

    def quantity(self, symbol: str) -> float:
        found = self.symbols.get(symbol)
        return 0.0 if found is None else found.quantity

    def open_positions(self) -> list[SymbolPnL]:
        return [s for s in self.symbols.values() if not s.is_flat]

    def total_contracts(self) -> float:
        return sum(abs(s.quantity) for s in self.symbols.values())

    def history(self) -> list[DayPnL]:
        """Finished days, oldest first, then today so far."""
        today = DayPnL(
            self.trading_day, self.daily_realized, self.daily_commissions, self.daily_closed_trades
        )
        return [*sorted(self._history.values(), key=lambda d: d.day), today]

    # --- feeding -----------------------------------------------------------------

    def seed(self, positions: Mapping[str, tuple[float, float, float | None]]) -> None:
        """Start from existing positions: symbol -> (signed quantity, average price, last price)."""
        for symbol, (quantity, avg_price, last_price) in positions.items():
            entry = self.symbol(symbol)
            entry.quantity, entry.avg_price, entry.last_price = quantity, avg_price, last_price
            self._remark(entry)

    def on_position(self, event: PositionEvent) -> None:
        entry = self.symbols.get(event.symbol) or self.symbol(event.symbol)
        self.updates += 1
        # The events carry exact money (Decimal); this tracker still sums floats.
        realized = float(event.realized_delta)
        commission = float(event.commission)
        self.daily_realized += realized
        self.daily_commissions += commission
        self.total_realized += realized
        self.total_commissions += commission
        self.cash += realized - commission
        entry.realized_today += realized
        entry.commissions_today += commission
        entry.quantity = event.quantity
        entry.avg_price = event.avg_price
        if event.last_price:
            entry.last_price = event.last_price
        if isinstance(event, PositionClosed) or (realized != 0.0 and abs(event.quantity) < _EPS):
            self.daily_closed_trades += 1
            entry.trades_today += 1
        self._remark(entry)

    def on_market(self, event: MarketDataUpdated) -> None:
        entry = self.symbols.get(event.symbol)
        if entry is None:
            entry = self.symbol(event.symbol)
        entry.last_price = event.price
        quantity = entry.quantity
        if quantity == 0.0 and entry.unrealized == 0.0:
            return
        new = (event.price - entry.avg_price) * quantity * entry.multiplier
        self.unrealized += new - entry.unrealized
        entry.unrealized = new
        equity = self.equity = self.cash + self.unrealized
        if equity > self.high_water:
            self.high_water = equity

    def _remark(self, entry: SymbolPnL) -> None:
        if entry.is_flat or entry.last_price is None:
            new = 0.0
        else:
            new = (entry.last_price - entry.avg_price) * entry.quantity * entry.multiplier
        self.unrealized += new - entry.unrealized
        entry.unrealized = new
        self.equity = self.cash + self.unrealized
        if self.equity > self.high_water:
            self.high_water = self.equity

    def reset_day(self, new_day: date) -> DayPnL:
        """Close the current trading day into the history and start ``new_day`` at zero."""
        finished = DayPnL(
            self.trading_day, self.daily_realized, self.daily_commissions, self.daily_closed_trades
        )
        self._history[self.trading_day] = finished
        self.trading_day = new_day
        self.daily_realized = self.daily_commissions = 0.0
        self.daily_closed_trades = 0
        for entry in self.symbols.values():
            entry.realized_today = entry.commissions_today = 0.0
            entry.trades_today = 0
        logger.info("P&L day %s closed: net %.2f; new day %s", finished.day, finished.net, new_day)
        return finished

    def export_state(self) -> dict[str, Any]:
        """Today's counters, the high-water mark and past days (JSON-able) for a restart."""
        return {
            "trading_day": self.trading_day.isoformat(),
            "daily_realized": self.daily_realized,
            "daily_commissions": self.daily_commissions,
            "daily_closed_trades": self.daily_closed_trades,
            "total_realized": self.total_realized,
            "total_commissions": self.total_commissions,
            "high_water": self.high_water,
            "history": [
                [d.day.isoformat(), d.realized, d.commissions, d.closed_trades]
                for d in self._history.values()
            ],
            "symbols": {
                s.symbol: [s.realized_today, s.commissions_today, s.trades_today]
                for s in self.symbols.values()
            },
        }

    def restore_state(self, state: Mapping[str, Any]) -> bool:
        """Restore what ``export_state`` saved. Today's counters come back only when the
        saved day is today (a restart after the daily reset starts the day at zero); past
        days and the high-water mark always do. True when today's counters were restored."""
        for day, realized, commissions, trades in state.get("history", ()):
            finished = DayPnL(date.fromisoformat(day), float(realized), float(commissions), int(trades))
            self._history.setdefault(finished.day, finished)
        self.high_water = max(self.high_water, float(state.get("high_water", self.high_water)))
        saved_day = date.fromisoformat(state["trading_day"])
        if saved_day != self.trading_day:
            if saved_day < self.trading_day:
                finished = DayPnL(
                    saved_day,
                    float(state["daily_realized"]),
                    float(state["daily_commissions"]),
                    int(state["daily_closed_trades"]),
                )
                self._history.setdefault(saved_day, finished)
            return False
        self.daily_realized = float(state["daily_realized"])
        self.daily_commissions = float(state["daily_commissions"])
        self.daily_closed_trades = int(state["daily_closed_trades"])
        self.total_realized = float(state.get("total_realized", self.total_realized))
        self.total_commissions = float(state.get("total_commissions", self.total_commissions))
        for symbol, (realized, commissions, trades) in state.get("symbols", {}).items():
            entry = self.symbol(symbol)
            entry.realized_today, entry.commissions_today, entry.trades_today = realized, commissions, trades
        return True

    def statistics(self) -> PnLStatistics:
        return PnLStatistics(
            updates=self.updates,
            open_positions=len(self.open_positions()),
            daily_net=self.daily_net,
            unrealized=self.unrealized,
            equity=self.equity,
            days=len(self._history) + 1,
        )

    def __repr__(self) -> str:
        return (
            f"PnLTracker(day={self.trading_day} daily_net={self.daily_net:.2f} "
            f"unrealized={self.unrealized:.2f} equity={self.equity:.2f} open={len(self.open_positions())})"
        )
