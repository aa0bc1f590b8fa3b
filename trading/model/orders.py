"""Orders and their lifecycle, written as a transition table."""

from __future__ import annotations

import itertools
import math
import os
from dataclasses import dataclass, field
from datetime import datetime

from trading.errors import InvalidStateTransition, OrderError
from trading.model.enums import OrderRole, OrderSide, OrderStatus, OrderType, TimeInForce

__all__ = ["ORDER_STATE_TABLE", "Order", "OrderIdFactory", "finite_positive"]

_S = OrderStatus
ORDER_STATE_TABLE: dict[OrderStatus, frozenset[OrderStatus]] = {
    _S.NEW: frozenset({_S.ACCEPTED, _S.DENIED, _S.REJECTED, _S.CANCELLED}),
    _S.ACCEPTED: frozenset({_S.PARTIALLY_FILLED, _S.FILLED, _S.CANCELLED, _S.EXPIRED}),
    _S.PARTIALLY_FILLED: frozenset({_S.PARTIALLY_FILLED, _S.FILLED, _S.CANCELLED, _S.EXPIRED}),
    _S.FILLED: frozenset(),
    _S.CANCELLED: frozenset(),
    _S.REJECTED: frozenset(),
    _S.EXPIRED: frozenset(),
    _S.DENIED: frozenset(),
}


def finite_positive(value: object) -> bool:
    """A real, finite number above zero (bools and NaN are not quantities or prices)."""
    return (
        isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0
    )


class OrderIdFactory:
    """Unique, readable order ids: ``<prefix>-<pid>-<n>``; unique across restarts by the start time."""

    def __init__(self, prefix: str = "O") -> None:
        self._prefix = f"{prefix}-{os.getpid():x}{int(datetime.now().timestamp() * 1000) % 0xFFFFFF:06x}"
        self._counter = itertools.count(1)

    def __call__(self) -> str:
        return f"{self._prefix}-{next(self._counter)}"


_default_ids = OrderIdFactory()


@dataclass(slots=True, kw_only=True, eq=False)
class Order:
    """An order. Mutable: the broker moves its status through ``ORDER_STATE_TABLE``.

    ``price`` is the limit price (LIMIT, STOP_LIMIT); ``stop_price`` the trigger (STOP, STOP_LIMIT).
    ``oco_group`` links orders of which only one may fill; ``parent_id`` links bracket children
    to their entry. ``bracket_stop`` is the stop-loss price an ENTRY's bracket places once it
    fills (not a trigger of this order): the pre-trade checks read the loss at the stop from it.
    """

    symbol: str
    side: OrderSide
    quantity: float
    order_type: OrderType = OrderType.MARKET
    price: float | None = None
    stop_price: float | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    order_id: str = field(default_factory=_default_ids)
    strategy: str = "manual"
    role: OrderRole = OrderRole.ENTRY
    reduce_only: bool = False
    oco_group: str | None = None
    parent_id: str | None = None
    transaction_id: str | None = None
    bracket_stop: float | None = None
    status: OrderStatus = OrderStatus.NEW
    filled_quantity: float = 0.0
    avg_fill_price: float | None = None
    triggered: bool = False
    created_at: datetime | None = None
    updated_at: datetime | None = None
    reason: str = ""

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise ``OrderError`` with a clear reason when the order is malformed."""
        if not isinstance(self.side, OrderSide):
            raise OrderError(f"order side must be an OrderSide, got {self.side!r}")
        if not isinstance(self.order_type, OrderType):
            raise OrderError(f"order_type must be an OrderType, got {self.order_type!r}")
        if not finite_positive(self.quantity):
            raise OrderError(f"order quantity must be a finite number > 0, got {self.quantity!r}")
        needs_price = self.order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT)
        needs_stop = self.order_type in (OrderType.STOP, OrderType.STOP_LIMIT)
        if needs_price and not finite_positive(self.price):
            raise OrderError(f"{self.order_type.value} order needs a finite price > 0, got {self.price!r}")
        if needs_stop and not finite_positive(self.stop_price):
            raise OrderError(
                f"{self.order_type.value} order needs a finite stop_price > 0, got {self.stop_price!r}"
            )

    @property
    def remaining(self) -> float:
        return self.quantity - self.filled_quantity

    @property
    def is_open(self) -> bool:
        return self.status.is_open

    @property
    def signed_quantity(self) -> float:
        return self.side.sign * self.quantity

    def transition(self, target: OrderStatus, when: datetime | None = None) -> None:
        """Move to ``target``; raise ``InvalidStateTransition`` naming both states if not allowed."""
        if target not in ORDER_STATE_TABLE[self.status]:
            raise InvalidStateTransition("order", self.status, target)
        self.status = target
        if when is not None:
            self.updated_at = when

    def __repr__(self) -> str:
        px = f" @{self.price}" if self.price is not None else ""
        stop = f" stop {self.stop_price}" if self.stop_price is not None else ""
        return (
            f"Order({self.order_id} {self.side.value} {self.quantity:g} {self.symbol} "
            f"{self.order_type.value}{px}{stop} {self.status.value} filled={self.filled_quantity:g})"
        )
