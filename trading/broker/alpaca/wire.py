"""Alpaca's JSON (REST answers and ``trade_updates`` messages) as venue facts.

Read from the raw JSON the SDK hands over with ``raw_data=True`` (numbers as strings,
RFC 3339 timestamps with nanoseconds and ``Z``), field names as in alpaca-py 0.44's
``Order``, ``Position``, ``TradeAccount`` and ``TradeUpdate`` models. Parsing the raw dict
directly is what keeps a trade update's translation in microseconds (the SDK's pydantic
models cost more than the message itself; see bench/bench_alpaca.py).

Statuses: ``pending_new``, ``accepted``, ``accepted_for_bidding`` are PENDING (received, not
working yet); ``new``, ``held`` (a bracket leg waiting for its entry), ``pending_cancel``,
``pending_replace``, ``done_for_day``, ``stopped``, ``suspended``, ``calculated`` WORKING;
the rest map one to one. Order types beyond market/limit/stop/stop-limit (a trailing stop
placed by hand) are booked as a stop at their current stop price, or a market order when
they have none. ``position_intent`` ``*_to_close`` marks an exit.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from trading.broker.venue.facts import (
    VenueAccount,
    VenueExecution,
    VenueOrder,
    VenuePosition,
    VenueStatus,
    VenueUpdate,
)
from trading.model import OrderSide, OrderType, TimeInForce

__all__ = ["account_from_json", "order_from_json", "position_from_json", "update_from_json"]

_STATUS = {
    "new": VenueStatus.WORKING,
    "held": VenueStatus.WORKING,
    "pending_cancel": VenueStatus.WORKING,
    "pending_replace": VenueStatus.WORKING,
    "done_for_day": VenueStatus.WORKING,
    "stopped": VenueStatus.WORKING,
    "suspended": VenueStatus.WORKING,
    "calculated": VenueStatus.WORKING,
    "pending_new": VenueStatus.PENDING,
    "accepted": VenueStatus.PENDING,
    "accepted_for_bidding": VenueStatus.PENDING,
    "partially_filled": VenueStatus.PARTIALLY_FILLED,
    "filled": VenueStatus.FILLED,
    "canceled": VenueStatus.CANCELLED,
    "expired": VenueStatus.EXPIRED,
    "rejected": VenueStatus.REJECTED,
    "replaced": VenueStatus.REPLACED,
}
_TYPE = {
    "market": OrderType.MARKET,
    "limit": OrderType.LIMIT,
    "stop": OrderType.STOP,
    "stop_limit": OrderType.STOP_LIMIT,
}
_SIDE = {"buy": OrderSide.BUY, "sell": OrderSide.SELL}
_TIF = {"day": TimeInForce.DAY, "gtc": TimeInForce.GTC}
_CLOSING = frozenset({"buy_to_close", "sell_to_close"})


def _float(value: Any) -> float | None:
    return None if value is None or value == "" else float(value)


def _time(value: Any) -> datetime | None:
    return None if not value else datetime.fromisoformat(value)


def order_from_json(data: dict[str, Any], parent_id: str | None = None) -> VenueOrder:
    """One order (``legs`` nested when Alpaca sent them)."""
    venue_id = data["id"]
    order_type = _TYPE.get(data.get("type") or data.get("order_type") or "market")
    price = _float(data.get("limit_price"))
    stop = _float(data.get("stop_price"))
    if order_type is None:  # trailing stop and the like: booked by what it is now
        order_type = OrderType.STOP if stop else OrderType.MARKET
    quantity = _float(data.get("qty")) or _float(data.get("filled_qty")) or 0.0
    legs = data.get("legs")
    status = data.get("status", "new")
    return VenueOrder(
        venue_id=venue_id,
        client_id=data.get("client_order_id") or venue_id,
        symbol=data["symbol"],
        side=_SIDE[data["side"]],
        quantity=quantity,
        order_type=order_type,
        status=_STATUS.get(status, VenueStatus.WORKING),
        filled_quantity=_float(data.get("filled_qty")) or 0.0,
        avg_fill_price=_float(data.get("filled_avg_price")),
        price=price,
        stop_price=stop,
        time_in_force=_TIF.get(data.get("time_in_force", "day"), TimeInForce.DAY),
        parent_id=parent_id,
        legs=() if not legs else tuple(order_from_json(leg, venue_id) for leg in legs),
        replaces=data.get("replaces"),
        replaced_by=data.get("replaced_by"),
        closing=data.get("position_intent") in _CLOSING,
        created_at=_time(data.get("created_at")),
        reason=status if status in ("rejected", "expired", "canceled") else "",
    )


def update_from_json(data: dict[str, Any]) -> VenueUpdate:
    """The ``data`` of one ``trade_updates`` message."""
    event = data["event"]
    execution = None
    execution_id = data.get("execution_id")
    if execution_id is not None and data.get("qty") is not None:
        execution = VenueExecution(
            execution_id=execution_id,
            quantity=float(data["qty"]),
            price=float(data["price"]),
            ts=_time(data.get("timestamp")) or datetime.fromtimestamp(0).astimezone(),
            position_quantity=_float(data.get("position_qty")),
        )
    return VenueUpdate(event=event, order=order_from_json(data["order"]), execution=execution)


def position_from_json(data: dict[str, Any]) -> VenuePosition:
    quantity = float(data["qty"])
    if data.get("side") == "short" and quantity > 0:
        quantity = -quantity
    return VenuePosition(
        symbol=data["symbol"],
        quantity=quantity,
        avg_price=float(data["avg_entry_price"]),
        cost_basis=abs(Decimal(data["cost_basis"])),
        unrealized_pnl=Decimal(data.get("unrealized_pl") or "0"),
        current_price=_float(data.get("current_price")),
    )


def account_from_json(data: dict[str, Any]) -> VenueAccount:
    return VenueAccount(
        equity=Decimal(data["equity"]),
        cash=Decimal(data["cash"]),
        buying_power=Decimal(data.get("buying_power") or "0"),
        currency=data.get("currency") or "USD",
        blocked=bool(data.get("trading_blocked") or data.get("account_blocked")),
    )
