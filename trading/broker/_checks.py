"""Argument checks for a broker's order entry, and the pre-trade checks' verdict.

``require_new`` and ``check_modify`` raise ``OrderError`` (a caller's mistake);
``acceptance_problem`` returns why a submitted order must be rejected, or None;
``pre_trade_verdict`` runs the installed pre-trade checks, failing closed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence

from trading.errors import OrderError
from trading.model import Instrument, Order, OrderStatus, OrderType, Position, TimeInForce
from trading.model.orders import finite_positive

__all__ = ["acceptance_problem", "check_modify", "pre_trade_verdict", "require_new"]

logger = logging.getLogger(__name__)


def pre_trade_verdict(
    checks: Sequence[Callable[[Order], tuple[str, str] | None]], order: Order
) -> tuple[tuple[str, str] | None, bool]:
    """Run ``checks`` in order: (the first denial or None, whether a check raised). A check
    that raises denies the order (fail closed: a check that cannot decide lets nothing through)."""
    for check in checks:
        try:
            verdict = check(order)
        except Exception:
            name = getattr(check, "__qualname__", repr(check))
            logger.exception("pre-trade check %s raised on %r; the order is denied", name, order)
            return (name, f"pre-trade check {name} failed; order denied"), True
        if verdict is not None:
            return verdict, False
    return None, False


def require_new(orders: Sequence[Order]) -> None:
    """Raise ``OrderError`` unless every item is an ``Order`` that is still NEW."""
    for order in orders:
        if not isinstance(order, Order):
            raise OrderError(f"expected an Order, got {order!r}")
        if order.status is not OrderStatus.NEW:
            raise OrderError(
                f"order {order.order_id} is {order.status.value}; only a NEW order can be submitted"
            )


def acceptance_problem(
    order: Order, instruments: Mapping[str, Instrument], position: Position | None
) -> str | None:
    """Why ``order`` cannot be accepted, or None; ``position`` is the one it would trade against."""
    if order.symbol not in instruments:
        return f"unknown symbol {order.symbol!r} (known: {', '.join(sorted(instruments))})"
    try:
        order.validate()
    except OrderError as exc:
        return str(exc)
    if not isinstance(order.time_in_force, TimeInForce):
        return f"time_in_force must be a TimeInForce, got {order.time_in_force!r}"
    if order.reduce_only and (position is None or position.side is not order.side.opposite):
        held = "flat" if position is None or position.is_flat else f"{position.quantity:g}"
        return f"reduce-only {order.side.value} would not reduce the {order.symbol} position ({held})"
    return None


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
