"""The ``Broker`` protocol: what the desk needs from any venue, paper or live.

Every method is synchronous and returns at once; what happens to orders and positions
is reported as events on the ``EventBus`` the broker was given. A live adapter
implements the same protocol by translating its venue's callbacks into those events.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol, runtime_checkable

from trading.model import Instrument, JournalStep, MarketDataUpdated, Order, Position

__all__ = ["AccountState", "Broker", "BrokerJournal", "DeskBroker", "JournalStep", "PreTradeCheck"]

# A pre-trade check returns None to let an order through, or (rule, reason) to deny it.
PreTradeCheck = Callable[[Order], "tuple[str, str] | None"]


@dataclass(frozen=True, slots=True)
class AccountState:
    """The account. What decides is exact money (``Decimal``: cash, realized P&L,
    commissions, starting balance); equity, unrealized P&L and buying power move with every
    price and are floats (display, charts, per-tick marks)."""

    cash: Decimal  # starting cash + realized P&L - commissions
    equity: float  # cash + unrealized P&L
    buying_power: float
    realized_pnl: Decimal  # gross, since the account was opened
    unrealized_pnl: float
    commissions: Decimal
    starting_balance: Decimal


@runtime_checkable
class BrokerJournal(Protocol):
    """Where a broker makes its steps durable before it publishes them (storage implements
    it; the broker never imports storage). Used from the broker's thread only.

    ``commit`` and ``flush`` return None when every step given so far is written, else the
    reason why not: the journal then holds the unwritten steps in memory, in order, and
    writes them before the next step (or on ``flush``); it never drops or reorders one.
    """

    def commit(self, step: JournalStep) -> str | None:
        """Write the steps still held, then ``step``, each in one transaction."""
        ...

    def flush(self) -> str | None:
        """Write the steps still held."""
        ...

    @property
    def pending(self) -> int:
        """How many steps are held, not yet written."""
        ...


@runtime_checkable
class Broker(Protocol):
    def instrument(self, symbol: str) -> Instrument:
        """The instrument for ``symbol``; ``UnknownInstrumentError`` if there is none."""
        ...

    def submit(self, order: Order, *, check: bool = True) -> Order:
        """Send an order. With ``check`` the installed pre-trade checks run first and a
        denied order ends DENIED with an ``OrderDenied`` event. A malformed order ends
        REJECTED with an ``OrderRejected`` event. Returns the same order object."""
        ...

    def cancel(self, order_id: str, reason: str = "") -> bool: ...

    def modify(
        self,
        order_id: str,
        *,
        quantity: float | None = None,
        price: float | None = None,
        stop_price: float | None = None,
    ) -> Order:
        """Change a working order; ``OrderError`` if it is not open or the change is invalid."""
        ...

    def submit_oco(self, orders: Sequence[Order], *, check: bool = True) -> list[Order]:
        """Submit orders as one OCO group: when one fills, the others are cancelled in the same step."""
        ...

    def get_order(self, order_id: str) -> Order | None: ...

    def open_orders(self, symbol: str | None = None) -> list[Order]: ...

    def positions(self) -> dict[str, Position]:
        """Open (non-flat) positions by symbol."""
        ...

    def account(self) -> AccountState: ...

    def last_price(self, symbol: str) -> float | None: ...

    def flatten_all(self, reason: str = "") -> list[Order]:
        """Cancel every open order, then close every position at market. Never pre-trade checked."""
        ...

    def close_position(self, symbol: str, reason: str = "") -> Order | None:
        """Cancel the symbol's open orders and close its position at market."""
        ...

    def reduce_position(self, symbol: str, quantity: float, reason: str = "") -> Order | None:
        """Reduce the absolute position by ``quantity`` at market."""
        ...

    def add_pre_trade_check(self, check: PreTradeCheck) -> None: ...


@runtime_checkable
class DeskBroker(Broker, Protocol):
    """What the desk's loop needs besides the ``Broker`` protocol: prices to hand over (a
    feed's ticks), the last price of every symbol (published with each snapshot), and the
    journal's health (``storage_problem``; ``flush_journal`` writes what it still holds)."""

    def on_market_data(self, event: MarketDataUpdated) -> None: ...

    def last_prices(self) -> dict[str, float]: ...

    @property
    def storage_problem(self) -> str | None: ...

    def flush_journal(self) -> bool: ...
