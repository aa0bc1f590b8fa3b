"""Core model: orders, positions, transactions, instruments and events."""

from trading.model.books import AccountRecord, FillRecord, JournalStep, JournalView, PositionRecord
from trading.model.enums import (
    OrderRole,
    OrderSide,
    OrderStatus,
    OrderType,
    Severity,
    TimeInForce,
    TradingState,
    TransactionStatus,
)
from trading.model.events import *  # noqa: F403  (events.__all__ is the public list)
from trading.model.events import __all__ as _event_names
from trading.model.instruments import Instrument
from trading.model.money import MONEY_QUANTUM, Money, quantize_money, to_money
from trading.model.orders import ORDER_STATE_TABLE, Order, OrderIdFactory
from trading.model.position import Position
from trading.model.recommendation import Recommendation
from trading.model.transaction import TRANSACTION_STATE_TABLE, Transaction

__all__ = [
    "MONEY_QUANTUM",
    "ORDER_STATE_TABLE",
    "TRANSACTION_STATE_TABLE",
    "AccountRecord",
    "FillRecord",
    "Instrument",
    "JournalStep",
    "JournalView",
    "Money",
    "Order",
    "OrderIdFactory",
    "OrderRole",
    "OrderSide",
    "OrderStatus",
    "OrderType",
    "Position",
    "PositionRecord",
    "Recommendation",
    "Severity",
    "TimeInForce",
    "TradingState",
    "Transaction",
    "TransactionStatus",
    "quantize_money",
    "to_money",
    *_event_names,
]
