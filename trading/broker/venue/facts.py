"""What a venue says, as plain values: its orders, executions, positions and account.

An adapter translates its venue's wire format (REST answers, stream messages) into these
records and nothing else; everything after that (the books, the events, the journal,
reconciliation, the guard) is shared by every venue. Prices and quantities are floats, as
in our ``Order``; money the venue reports (cash, equity, cost basis, unrealized P&L) is
exact ``Decimal``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import Enum, unique

from trading.model import OrderSide, OrderType, TimeInForce

__all__ = [
    "OrderRequest",
    "VenueAccount",
    "VenueExecution",
    "VenueOrder",
    "VenuePosition",
    "VenueStatus",
    "VenueUpdate",
    "VenueView",
]


@unique
class VenueStatus(Enum):
    """A venue order's state, reduced to what the books need."""

    PENDING = "PENDING"  # received, not working yet (pending_new, accepted, ...)
    WORKING = "WORKING"  # working at the venue (new, held bracket legs, ...)
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"
    REJECTED = "REJECTED"
    REPLACED = "REPLACED"  # a replacement order took its place (``replaced_by``)

    @property
    def is_open(self) -> bool:
        return self in (VenueStatus.PENDING, VenueStatus.WORKING, VenueStatus.PARTIALLY_FILLED)


@dataclass(frozen=True, slots=True, kw_only=True)
class VenueOrder:
    """One order as the venue holds it, with its cumulative fill (``filled_quantity`` at
    ``avg_fill_price``): the sequence that makes fills idempotent."""

    venue_id: str
    client_id: str
    symbol: str
    side: OrderSide
    quantity: float
    order_type: OrderType
    status: VenueStatus
    filled_quantity: float = 0.0
    avg_fill_price: float | None = None
    price: float | None = None  # limit
    stop_price: float | None = None
    time_in_force: TimeInForce = TimeInForce.DAY
    parent_id: str | None = None  # the venue id of the order this one is a leg of
    legs: tuple[VenueOrder, ...] = ()
    replaces: str | None = None  # the venue id this order replaced
    replaced_by: str | None = None
    closing: bool = False  # the venue says it closes a position (an exit)
    created_at: datetime | None = None
    updated_at: datetime | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class VenueExecution:
    """One execution (fill) with the venue's id for it."""

    execution_id: str
    quantity: float
    price: float
    ts: datetime
    position_quantity: float | None = None  # the venue's signed position right after it


@dataclass(frozen=True, slots=True, kw_only=True)
class VenueUpdate:
    """One message of the venue's order stream: the order after the event, and the
    execution when the event is a fill."""

    event: str  # the venue's own word for it ("new", "fill", "canceled", ...)
    order: VenueOrder
    execution: VenueExecution | None = None
    ts: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class VenuePosition:
    symbol: str
    quantity: float  # signed
    avg_price: float
    cost_basis: Decimal  # exact money paid for the open quantity, positive
    unrealized_pnl: Decimal
    current_price: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class VenueAccount:
    equity: Decimal
    cash: Decimal  # the venue's cash (a stock account's cash moves with purchases)
    buying_power: Decimal
    currency: str = "USD"
    blocked: bool = False  # the venue blocks trading on the account


@dataclass(frozen=True, slots=True, kw_only=True)
class VenueView:
    """The account as one round of reads found it: the other side of a reconciliation."""

    account: VenueAccount
    positions: tuple[VenuePosition, ...]
    open_orders: tuple[VenueOrder, ...]
    closed_orders: tuple[VenueOrder, ...] = ()  # recently closed: fills the stream may have missed
    taken_at: datetime | None = None

    @property
    def books_cash(self) -> Decimal:
        """Cash as our books hold it (starting balance + realized P&L - commissions): the
        venue's equity without the open positions' unrealized P&L."""
        return self.account.equity - sum((p.unrealized_pnl for p in self.positions), Decimal(0))


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderRequest:
    """An order to send: ``client_id`` makes it idempotent (a retry after a timeout looks it
    up first). ``order_class`` "oco" is a take-profit limit (``price``) with a stop
    (``stop_loss``); "bracket" adds both to an entry."""

    client_id: str
    symbol: str
    side: OrderSide
    quantity: float
    order_type: OrderType
    time_in_force: TimeInForce
    price: float | None = None
    stop_price: float | None = None
    order_class: str = "simple"  # simple | oco | bracket
    take_profit: float | None = None
    stop_loss: float | None = None
    stop_loss_limit: float | None = None
