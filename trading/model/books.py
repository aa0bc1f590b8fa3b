"""The books as a journal holds them: plain-value records of a broker's account.

A broker *step* (one submit, OCO submit, cancel, modify, exit, expiry, or one price's
fills) is one ``JournalStep``: the orders it changed, the fills it booked, the positions
they moved and the account after it. A ``JournalView`` is what a restart reads back. Both
are frozen and hold values only (the orders are copies taken at the step), so a step kept
in memory while the storage is down still says what the books were at that moment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from trading.model.enums import OrderRole, OrderSide
from trading.model.orders import Order

__all__ = ["AccountRecord", "FillRecord", "JournalStep", "JournalView", "PositionRecord"]


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountRecord:
    """The account's money after a step. ``cash`` is derived, never stored."""

    starting_balance: Decimal
    realized_pnl: Decimal  # gross, since the account was opened
    commissions: Decimal
    last_fill_id: str | None = None  # the newest fill booked into these totals
    updated_at: datetime | None = None

    @property
    def cash(self) -> Decimal:
        return self.starting_balance + self.realized_pnl - self.commissions


@dataclass(frozen=True, slots=True, kw_only=True)
class PositionRecord:
    """One symbol's position after a step (a flat one is kept for its realized P&L)."""

    symbol: str
    quantity: float  # signed
    avg_price: float
    cost_basis: Decimal  # exact |quantity| x average price x multiplier
    realized_pnl: Decimal
    commissions: Decimal
    last_price: float | None = None
    opened_at: datetime | None = None
    updated_at: datetime | None = None
    strategies: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class FillRecord:
    """One fill and what it booked: its exact commission and realized P&L, and the
    symbol's net position right after it (so closed trades can be recounted from fills).
    A fill recorded before the journal existed (schema 1) has neither: None."""

    fill_id: str
    order_id: str
    symbol: str
    side: OrderSide
    quantity: float
    price: float
    commission: Decimal
    realized_pnl: Decimal | None
    position_quantity: float | None
    role: OrderRole
    strategy: str
    transaction_id: str | None
    ts: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class JournalStep:
    """One broker step, written in one transaction before its events are published."""

    ts: datetime
    orders: tuple[Order, ...] = ()  # copies of every order the step changed, in order
    fills: tuple[FillRecord, ...] = ()
    positions: tuple[PositionRecord, ...] = ()
    account: AccountRecord | None = None  # set when the step moved money (or starts the books)


@dataclass(frozen=True, slots=True, kw_only=True)
class JournalView:
    """What a restart rebuilds a broker from: the account row (None: no books yet), every
    position row, and the working orders (only orders whose journal status is open)."""

    account: AccountRecord | None
    positions: tuple[PositionRecord, ...] = ()
    working_orders: tuple[Order, ...] = ()
