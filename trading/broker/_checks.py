"""Argument checks for the paper broker's order entry; each raises ``OrderError`` naming the problem."""

from __future__ import annotations

from trading.errors import OrderError
from trading.model import Order, OrderType
from trading.model.orders import finite_positive

__all__ = ["check_modify"]


def check_modify(order: Order, quantity: float, price: float | None, stop_price: float | None) -> None:
    """Raise ``OrderError`` unless every requested change is valid for ``order``."""
    oid, kind = order.order_id, order.order_type
    if price is None and stop_price is None and quantity == order.quantity:
        raise OrderError(f"cannot modify {oid}: give a new quantity, price or stop_price")
    if not finite_positive(quantity) or quantity <= order.filled_quantity:
        raise OrderError(
            f"cannot modify {oid}: quantity must be a number above the filled {order.filled_quantity:g}, "
            f"got {quantity!r}"
        )
    if price is not None:
        if kind not in (OrderType.LIMIT, OrderType.STOP_LIMIT):
            raise OrderError(f"cannot modify {oid}: a {kind.value} order has no limit price")
        if not finite_positive(price):
            raise OrderError(f"cannot modify {oid}: price must be a finite number > 0, got {price!r}")
    if stop_price is not None:
        if kind not in (OrderType.STOP, OrderType.STOP_LIMIT) or order.triggered:
            raise OrderError(f"cannot modify {oid}: a {kind.value} order has no pending stop")
        if not finite_positive(stop_price):
            raise OrderError(
                f"cannot modify {oid}: stop_price must be a finite number > 0, got {stop_price!r}"
            )
