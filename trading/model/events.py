"""Events: frozen dataclasses with past-tense names, each stamped by the Clock.

Broker events describe what happened to orders, positions and prices; risk events
what the risk engine decided. Events carry plain values (ids, symbols, numbers), never
mutable objects, so a subscriber can keep one without seeing it change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from trading.model.enums import OrderRole, OrderSide, OrderType, Severity, TradingState
from trading.model.money import ZERO

__all__ = [
    "AccountUpdated",
    "AlertRaised",
    "BrokerBlind",
    "BrokerSighted",
    "EnforcementExecuted",
    "Event",
    "LockoutEnded",
    "LockoutStarted",
    "MarketDataUpdated",
    "MarksFresh",
    "MarksStale",
    "OrderAccepted",
    "OrderCancelled",
    "OrderDenied",
    "OrderEvent",
    "OrderExpired",
    "OrderFilled",
    "OrderModified",
    "OrderRejected",
    "OrderSubmitted",
    "PositionChanged",
    "PositionClosed",
    "PositionEvent",
    "PositionOpened",
    "RuleViolated",
    "StorageDegraded",
    "StorageRecovered",
    "TradingStateChanged",
    "TransactionClosed",
    "TransactionOpened",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    ts: datetime


# --- orders ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderEvent(Event):
    order_id: str
    symbol: str
    strategy: str = "manual"


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderSubmitted(OrderEvent):
    side: OrderSide
    quantity: float
    order_type: OrderType
    price: float | None = None
    stop_price: float | None = None
    role: OrderRole = OrderRole.ENTRY
    reduce_only: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderAccepted(OrderEvent):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderDenied(OrderEvent):
    """The pre-trade risk check refused the order before the broker saw it."""

    reason: str
    rule: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderRejected(OrderEvent):
    """The broker refused the order (malformed, unknown symbol...)."""

    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderCancelled(OrderEvent):
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderExpired(OrderEvent):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderModified(OrderEvent):
    quantity: float
    price: float | None = None
    stop_price: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderFilled(OrderEvent):
    side: OrderSide
    quantity: float  # this fill
    price: float
    commission: Decimal = ZERO  # exact money, on the money quantum
    filled_quantity: float = 0.0  # cumulative on the order
    order_quantity: float = 0.0
    role: OrderRole = OrderRole.ENTRY
    fill_id: str = ""
    transaction_id: str | None = None

    @property
    def is_complete(self) -> bool:
        return self.filled_quantity >= self.order_quantity - 1e-9


# --- positions -------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class PositionEvent(Event):
    symbol: str
    quantity: float  # signed net quantity after the fill
    avg_price: float
    realized_pnl: Decimal  # the position's cumulative realized P&L (gross, exact)
    realized_delta: Decimal = ZERO  # realized P&L of the fill that caused this event (exact)
    commission: Decimal = ZERO  # commission of that fill (exact)
    last_price: float = 0.0
    strategy: str = "manual"


@dataclass(frozen=True, slots=True, kw_only=True)
class PositionOpened(PositionEvent):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class PositionChanged(PositionEvent):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class PositionClosed(PositionEvent):
    pass


# --- market data and account -----------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class MarketDataUpdated(Event):
    symbol: str
    price: float
    bid: float | None = None
    ask: float | None = None
    volume: float = 0.0
    high: float | None = None  # bar data: the bar's range, so stops touched inside a bar fill
    low: float | None = None
    open: float | None = None  # bar data: the bar's first price (where a gap through a stop fills)


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountUpdated(Event):
    cash: Decimal  # exact: starting balance + realized P&L - commissions
    equity: float  # cash + unrealized P&L (display)
    buying_power: float
    realized_pnl: Decimal  # exact, gross, since the account was opened
    unrealized_pnl: float


# --- storage ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class StorageDegraded(Event):
    """The broker's journal could not write a step: the steps it holds are kept in memory,
    in order, and written when the storage works again. Published once per outage."""

    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class StorageRecovered(Event):
    """Every step the journal held during an outage is written; the books are durable again."""

    steps_written: int = 0


# --- a venue's account --------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class BrokerBlind(Event):
    """The desk cannot observe the venue's account: its stream has been down longer than the
    configured limit (fills, cancels and orders placed elsewhere may be happening unseen).
    Published once per outage; the risk manager holds the account REDUCING until sighted."""

    broker: str  # the broker kind, e.g. "alpaca"
    reason: str
    since: datetime  # when the account was last observed


@dataclass(frozen=True, slots=True, kw_only=True)
class BrokerSighted(Event):
    """The venue's account is observed again and the books were resynchronised with it."""

    broker: str
    blind_seconds: float  # how long the account was not observed


@dataclass(frozen=True, slots=True, kw_only=True)
class MarksStale(Event):
    """Positions are held whose prices have not moved for longer than the configured limit (a
    venue's quote feed is down or silent): their open P&L is measured on old prices. The risk
    manager holds the account REDUCING until ``MarksFresh``. Published when the set changes."""

    broker: str
    symbols: tuple[str, ...]  # the held symbols whose marks are stale
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class MarksFresh(Event):
    """Every held symbol's mark is fresh again (or the stale ones are no longer held)."""

    broker: str


# --- transactions ----------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class TransactionOpened(Event):
    transaction_id: str
    strategy: str
    symbol: str
    side: OrderSide
    quantity: float
    entry_price: float


@dataclass(frozen=True, slots=True, kw_only=True)
class TransactionClosed(Event):
    transaction_id: str
    strategy: str
    symbol: str
    realized_pnl: float
    exit_price: float | None


# --- risk ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleViolated(Event):
    rule: str
    message: str
    action: str
    severity: Severity
    shadow: bool = False
    symbol: str | None = None
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class TradingStateChanged(Event):
    previous: TradingState
    state: TradingState
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class LockoutStarted(Event):
    scope: str  # "account" or a symbol
    reason: str
    rule: str
    until: datetime | None  # None: until the daily reset


@dataclass(frozen=True, slots=True, kw_only=True)
class LockoutEnded(Event):
    scope: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class EnforcementExecuted(Event):
    action: str
    rule: str
    reason: str
    result: str
    symbol: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertRaised(Event):
    severity: Severity
    message: str
    rule: str = ""
