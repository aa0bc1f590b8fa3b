"""Enumerations shared by every layer."""

from __future__ import annotations

from enum import Enum, unique


@unique
class OrderSide(Enum):
    BUY = "BUY"
    SELL = "SELL"

    @property
    def sign(self) -> int:
        """+1 for a buy, -1 for a sell."""
        return 1 if self is OrderSide.BUY else -1

    @property
    def opposite(self) -> OrderSide:
        return OrderSide.SELL if self is OrderSide.BUY else OrderSide.BUY


@unique
class OrderType(Enum):
    MARKET = "MARKET"
    LIMIT = "LIMIT"
    STOP = "STOP"
    STOP_LIMIT = "STOP_LIMIT"


@unique
class TimeInForce(Enum):
    DAY = "DAY"
    GTC = "GTC"


@unique
class OrderStatus(Enum):
    NEW = "NEW"
    DENIED = "DENIED"  # refused by the pre-trade risk check; never reached the venue
    ACCEPTED = "ACCEPTED"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELLED = "CANCELLED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"

    @property
    def is_open(self) -> bool:
        return self in (OrderStatus.NEW, OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED)

    @property
    def is_terminal(self) -> bool:
        return not self.is_open


@unique
class TransactionStatus(Enum):
    WAITING = "WAITING"  # entry order placed, not filled yet
    OPENED = "OPENED"
    CLOSED = "CLOSED"
    CANCELLED = "CANCELLED"

    @property
    def is_active(self) -> bool:
        return self in (TransactionStatus.WAITING, TransactionStatus.OPENED)


@unique
class OrderRole(Enum):
    """What an order is for inside a transaction or an enforcement action."""

    ENTRY = "ENTRY"
    TAKE_PROFIT = "TAKE_PROFIT"
    STOP_LOSS = "STOP_LOSS"
    EXIT = "EXIT"  # a closing market order (manual close, risk flatten/reduce)
    OTHER = "OTHER"


@unique
class TradingState(Enum):
    """The account's trading state, as NautilusTrader has it."""

    ACTIVE = "ACTIVE"
    REDUCING = "REDUCING"  # only orders that reduce exposure pass
    HALTED = "HALTED"  # no new orders; cancels and flattening always allowed


@unique
class Severity(Enum):
    INFO = "INFO"
    WARNING = "WARNING"
    CRITICAL = "CRITICAL"
