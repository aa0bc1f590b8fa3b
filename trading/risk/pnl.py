"""PnLTracker: realized and unrealized P&L per day and per symbol, from broker events.

It is fed ``PositionOpened/Changed/Closed`` (realized P&L and commission of each fill) and
``MarketDataUpdated`` (marks). Money that decides is exact: realized P&L, commissions, the
day's counters, the totals and cash are ``Decimal`` (the events carry them exactly). The
marks are floats: unrealized P&L and equity (cash plus unrealized) are kept incrementally as
floats, so rules read them in O(1) per tick; ``exact_unrealized``/``exact_equity`` give the
exact values a rule needs near a limit (``trading.risk.amounts``).

A restart recounts the day from the journal's fills (``recount``), never from a saved blob.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple

from trading.model import FillRecord, MarketDataUpdated, PositionClosed, PositionEvent
from trading.model.money import ZERO, to_money

__all__ = ["DayPnL", "PnLStatistics", "PnLTracker", "SymbolPnL"]

logger = logging.getLogger(__name__)

_EPS = 1e-9


class SymbolPnL:
    """One symbol's position and P&L as the risk engine sees it."""

    __slots__ = (
        "avg_price",
        "commissions_today",
        "exact_multiplier",
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
        self.exact_multiplier = to_money(multiplier)
        self.quantity = 0.0
        self.avg_price = 0.0
        self.last_price: float | None = None
        self.unrealized = 0.0  # float mark, for the ticks
        self.realized_today = ZERO
        self.commissions_today = ZERO
        self.trades_today = 0

    @property
    def is_flat(self) -> bool:
        return -_EPS < self.quantity < _EPS

    def exact_unrealized(self) -> Decimal:
        """The open P&L in exact money: (mark - average price) x quantity x multiplier, each as
        the decimal number its float stands for."""
        if self.is_flat or self.last_price is None:
            return ZERO
        move = to_money(self.last_price) - to_money(self.avg_price)
        return move * to_money(self.quantity) * self.exact_multiplier

    def __repr__(self) -> str:
        return (
            f"SymbolPnL({self.symbol} qty={self.quantity:g} avg={self.avg_price:g} "
            f"unrealized={self.unrealized:.2f} realized_today={self.realized_today:.2f})"
        )


@dataclass(frozen=True, slots=True)
class DayPnL:
    day: date
    realized: Decimal
    commissions: Decimal
    closed_trades: int

    @property
    def net(self) -> Decimal:
        return self.realized - self.commissions


class PnLStatistics(NamedTuple):
    updates: int
    open_positions: int
    daily_net: Decimal
    unrealized: float
    equity: float
    days: int


class PnLTracker:
    """Realized (gross), commissions and unrealized P&L for the current trading day.

    ``cash`` starts at the broker's cash and moves by realized P&L minus commissions;
    ``equity`` is cash plus unrealized (a float). ``history`` keeps one ``DayPnL`` per finished day.
    """

    def __init__(
        self,
        *,
        cash: float | Decimal,
        trading_day: date,
        multiplier: Callable[[str], float] | None = None,
        total_realized: Decimal = ZERO,
        total_commissions: Decimal = ZERO,
    ) -> None:
        self._multiplier = multiplier or (lambda symbol: 1.0)
        self.symbols: dict[str, SymbolPnL] = {}
        self.trading_day = trading_day
        self.cash = to_money(cash)
        self._cash = float(self.cash)  # the float of cash, for the per-tick equity
        self.unrealized = 0.0
        self.daily_realized = ZERO
        self.daily_commissions = ZERO
        self.daily_closed_trades = 0
        self.total_realized = to_money(total_realized)
        self.total_commissions = to_money(total_commissions)
        self.equity = self._cash
        self._history: dict[date, DayPnL] = {}
        self.updates = 0

    # --- reading -----------------------------------------------------------------

    @property
    def daily_net(self) -> Decimal:
        """Today's realized P&L net of today's commissions (exact)."""
        return self.daily_realized - self.daily_commissions

    @property
    def daily_pnl(self) -> float:
        """Today's realized net plus the open positions' unrealized P&L (display)."""
        return float(self.daily_realized - self.daily_commissions) + self.unrealized

    def exact_equity(self) -> Decimal:
        """Cash plus every open position's exact unrealized P&L."""
        total = self.cash
        for entry in self.symbols.values():
            if not entry.is_flat:
                total += entry.exact_unrealized()
        return total

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
        realized = event.realized_delta
        commission = event.commission
        if type(realized) is not Decimal:  # events made by hand may carry ints
            realized = to_money(realized)
        if type(commission) is not Decimal:
            commission = to_money(commission)
        self.daily_realized += realized
        self.daily_commissions += commission
        self.total_realized += realized
        self.total_commissions += commission
        if realized or commission:
            self.cash += realized - commission
            self._cash = float(self.cash)
        entry.realized_today += realized
        entry.commissions_today += commission
        entry.quantity = event.quantity
        entry.avg_price = event.avg_price
        if event.last_price:
            entry.last_price = event.last_price
        if isinstance(event, PositionClosed) or (realized and abs(event.quantity) < _EPS):
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
        self.equity = self._cash + self.unrealized

    def _remark(self, entry: SymbolPnL) -> None:
        if entry.is_flat or entry.last_price is None:
            new = 0.0
        else:
            new = (entry.last_price - entry.avg_price) * entry.quantity * entry.multiplier
        self.unrealized += new - entry.unrealized
        entry.unrealized = new
        self.equity = self._cash + self.unrealized

    def reset_day(self, new_day: date) -> DayPnL:
        """Close the current trading day into the history and start ``new_day`` at zero."""
        finished = DayPnL(
            self.trading_day, self.daily_realized, self.daily_commissions, self.daily_closed_trades
        )
        self._history[self.trading_day] = finished
        self.trading_day = new_day
        self.daily_realized = self.daily_commissions = ZERO
        self.daily_closed_trades = 0
        for entry in self.symbols.values():
            entry.realized_today = entry.commissions_today = ZERO
            entry.trades_today = 0
        logger.info("P&L day %s closed: net %.2f; new day %s", finished.day, finished.net, new_day)
        return finished

    # --- a restart: the day recounted from the journal's fills ------------------------

    def recount(self, fills: Iterable[FillRecord], trading_day_of: Callable[[datetime], date]) -> int:
        """Recount today's counters (and finished days' history) from the journal's ``fills``,
        oldest first; today is ``self.trading_day``. Returns how many of today's fills were
        counted. A fill of a version-1 journal (no realized P&L recorded) counts its commission."""
        realized_by: dict[date, Decimal] = {}
        commissions_by: dict[date, Decimal] = {}
        closed_by: dict[date, int] = {}
        counted = 0
        today = self.trading_day
        for fill in fills:
            day = trading_day_of(fill.ts)
            if day > today:
                continue
            realized = fill.realized_pnl if fill.realized_pnl is not None else ZERO
            closed = int(_closes(fill))
            realized_by[day] = realized_by.get(day, ZERO) + realized
            commissions_by[day] = commissions_by.get(day, ZERO) + fill.commission
            closed_by[day] = closed_by.get(day, 0) + closed
            if day == today:
                counted += 1
                entry = self.symbol(fill.symbol)
                entry.realized_today += realized
                entry.commissions_today += fill.commission
                entry.trades_today += closed
        for day, realized_total in realized_by.items():
            record = DayPnL(day, realized_total, commissions_by[day], closed_by[day])
            if day == today:
                self.daily_realized, self.daily_commissions = record.realized, record.commissions
                self.daily_closed_trades = record.closed_trades
            else:
                self._history[day] = record
        return counted

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


def _closes(fill: FillRecord) -> bool:
    """The fill closed a trade (its position went flat, or flipped side): what ``on_position``
    counts as a closed trade (a ``PositionClosed``)."""
    after = fill.position_quantity
    if after is None:
        return False
    before = after - fill.side.sign * fill.quantity
    if abs(before) < _EPS:
        return False
    return abs(after) < _EPS or (after > 0) != (before > 0)
