"""JSON-able snapshots of the paper account: orders and positions to plain dicts and back.

Reading validates every field and raises ``BrokerStateError`` naming the entry and the
field, so a damaged state never half-restores.
"""

from __future__ import annotations

import math
from collections.abc import Container
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from trading.errors import BrokerStateError, OrderError
from trading.model import (
    Order,
    OrderRole,
    OrderSide,
    OrderStatus,
    OrderType,
    Position,
    TimeInForce,
    to_money,
)

__all__ = [
    "STATE_VERSION",
    "last_prices_from_dict",
    "money_from_dict",
    "order_from_dict",
    "order_to_dict",
    "position_from_dict",
    "position_to_dict",
]

STATE_VERSION = 1

_ORDER_ENUMS: dict[str, type[Enum]] = {
    "side": OrderSide,
    "order_type": OrderType,
    "time_in_force": TimeInForce,
    "role": OrderRole,
    "status": OrderStatus,
}
_ORDER_TIMES = ("created_at", "updated_at")
_ORDER_FIELDS = (
    "order_id",
    "symbol",
    "side",
    "quantity",
    "order_type",
    "price",
    "stop_price",
    "time_in_force",
    "strategy",
    "role",
    "reduce_only",
    "oco_group",
    "parent_id",
    "transaction_id",
    "status",
    "filled_quantity",
    "avg_fill_price",
    "triggered",
    "created_at",
    "updated_at",
    "reason",
)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def order_to_dict(order: Order) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in _ORDER_FIELDS:
        value = getattr(order, name)
        if isinstance(value, Enum):
            value = value.value
        elif isinstance(value, datetime):
            value = value.isoformat()
        out[name] = value
    return out


def order_from_dict(data: Any, where: str) -> Order:
    if not isinstance(data, dict):
        raise BrokerStateError(f"{where}: expected an object, got {type(data).__name__}")
    unknown = set(data) - set(_ORDER_FIELDS)
    if unknown:
        raise BrokerStateError(
            f"{where}: unknown fields {sorted(unknown)} (allowed: {', '.join(_ORDER_FIELDS)})"
        )
    kwargs: dict[str, Any] = {}
    for name, value in data.items():
        if name in _ORDER_ENUMS and value is not None:
            enum = _ORDER_ENUMS[name]
            try:
                value = enum(value)
            except ValueError:
                allowed = ", ".join(str(m.value) for m in enum)
                raise BrokerStateError(f"{where}: {name}={value!r} is not one of {allowed}") from None
        elif name in _ORDER_TIMES and value is not None:
            value = _parse_time(value, f"{where}.{name}")
        kwargs[name] = value
    status = kwargs.get("status", OrderStatus.ACCEPTED)
    if not status.is_open:
        raise BrokerStateError(f"{where}: status {status.value} is not an open order status")
    try:
        order = Order(**kwargs)
    except (OrderError, TypeError) as exc:
        raise BrokerStateError(f"{where}: {exc}") from None
    if not 0 <= order.filled_quantity < order.quantity:
        raise BrokerStateError(
            f"{where}: filled_quantity {order.filled_quantity} outside [0, {order.quantity})"
        )
    return order


def position_to_dict(position: Position) -> dict[str, Any]:
    return {
        "symbol": position.symbol,
        "quantity": position.quantity,
        "avg_price": position.avg_price,
        "cost_basis": str(position.cost_basis),
        "realized_pnl": str(position.realized_pnl),
        "commissions": str(position.commissions),
        "last_price": position.last_price,
        "opened_at": _iso(position.opened_at),
        "updated_at": _iso(position.updated_at),
        "strategies": sorted(position.strategies),
    }


def position_from_dict(data: Any, where: str, multiplier: float) -> Position:
    if not isinstance(data, dict):
        raise BrokerStateError(f"{where}: expected an object, got {type(data).__name__}")
    try:
        position = Position(
            symbol=str(data["symbol"]),
            multiplier=multiplier,
            quantity=_number(data["quantity"], f"{where}.quantity"),
            avg_price=_number(data["avg_price"], f"{where}.avg_price"),
            realized_pnl=money_from_dict(data.get("realized_pnl", 0), f"{where}.realized_pnl"),
            commissions=money_from_dict(data.get("commissions", 0), f"{where}.commissions"),
            cost_basis=money_from_dict(data.get("cost_basis", 0), f"{where}.cost_basis"),
            last_price=None
            if data.get("last_price") is None
            else _number(data["last_price"], f"{where}.last_price"),
            strategies=set(data.get("strategies", ())),
        )
    except KeyError as exc:
        raise BrokerStateError(f"{where}: missing field {exc.args[0]!r}") from None
    for name in ("opened_at", "updated_at"):
        if data.get(name) is not None:
            setattr(position, name, _parse_time(data[name], f"{where}.{name}"))
    return position


def last_prices_from_dict(data: Any, symbols: Container[str]) -> dict[str, float]:
    """Saved last prices by symbol; every symbol must be one of ``symbols``."""
    if not isinstance(data, dict) or any(
        s not in symbols or isinstance(p, bool) or not isinstance(p, (int, float)) for s, p in data.items()
    ):
        raise BrokerStateError(f"state.last_prices must map known symbols to prices, got {data!r}")
    return {s: float(p) for s, p in data.items()}


def money_from_dict(value: Any, where: str) -> Decimal:
    """Saved money: a number or decimal text, exactly (a float through its ``repr``)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        raise BrokerStateError(f"{where}: expected a number, got {value!r}")
    try:
        return to_money(value)
    except (TypeError, ValueError):
        raise BrokerStateError(f"{where}: expected a number, got {value!r}") from None


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise BrokerStateError(f"{where}: expected a finite number, got {value!r}")
    return float(value)


def _parse_time(value: Any, where: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise BrokerStateError(f"{where}: {value!r} is not an ISO 8601 time") from None
    if parsed.tzinfo is None:
        raise BrokerStateError(f"{where}: {value!r} has no time zone")
    return parsed
