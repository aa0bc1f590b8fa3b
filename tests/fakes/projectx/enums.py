"""The integer enums of the ProjectX Gateway API, as they travel on the wire.

Order type, side and status, and position type: gateway docs ("Place an Order" lists the order
types 1, 2, 4, 5, 6, 7 and the sides 0 = Bid (buy), 1 = Ask (sell)); the full sets, with 0 and 3
and the statuses, from the gateway's OpenAPI enums as project-x-py 4.4.1 (``models.py``) and
topstep-sdk 0.1.4 (``enums.py``) both list them.
"""

from __future__ import annotations

from enum import IntEnum

__all__ = ["OrderSide", "OrderStatus", "OrderType", "PositionType"]


class OrderType(IntEnum):
    UNKNOWN = 0
    LIMIT = 1
    MARKET = 2
    STOP_LIMIT = 3
    STOP = 4
    TRAILING_STOP = 5
    JOIN_BID = 6
    JOIN_ASK = 7


class OrderSide(IntEnum):
    BID = 0  # buy
    ASK = 1  # sell

    @property
    def sign(self) -> int:
        return 1 if self is OrderSide.BID else -1

    @property
    def opposite(self) -> OrderSide:
        return OrderSide.ASK if self is OrderSide.BID else OrderSide.BID


class OrderStatus(IntEnum):
    NONE = 0
    OPEN = 1
    FILLED = 2
    CANCELLED = 3
    EXPIRED = 4
    REJECTED = 5
    PENDING = 6


class PositionType(IntEnum):
    UNDEFINED = 0
    LONG = 1
    SHORT = 2
