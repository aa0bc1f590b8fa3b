"""The ProjectX Gateway's JSON (REST answers and user-hub payloads) as venue facts.

Field names as the gateway's API reference and the fake beside the tests (tests/fakes/projectx,
README.md there says where each was read) name them:

* order: ``id accountId contractId creationTimestamp updateTimestamp status type side size
  limitPrice stopPrice fillVolume filledPrice customTag``; ``type`` 1 limit, 2 market,
  3 stop-limit, 4 stop, 5 trailing stop, 6 join bid, 7 join ask; ``side`` 0 buy (bid),
  1 sell (ask); ``status`` 0 none, 1 open, 2 filled, 3 cancelled, 4 expired, 5 rejected,
  6 pending. ``fillVolume`` at ``filledPrice`` (the average) is the cumulative fill the books
  need. ``customTag`` carries our client order id (``BRACKET_MARK`` appended on a bracket's
  entry); an order without one was placed elsewhere.
* position: ``contractId type size averagePrice``; ``type`` 1 long, 2 short, ``size``
  unsigned. No price: a position is marked by the market hub's quotes (quotes.py).
* account: ``id name balance canTrade simulated``: ``balance`` is cash as our books hold it
  (starting balance + realized P&L - fees): a futures account's cash does not move with
  the contracts held (``VenueAccount.margin``).
* trade: ``id orderId price size creationTimestamp voided``: one execution.

A trailing stop placed by hand is booked as a stop at its current stop price, a join-bid/ask
order as a limit at its price (or a market order without one).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from trading.broker.projectx.legs import BRACKET_MARK
from trading.broker.venue.facts import VenueAccount, VenueExecution, VenueOrder, VenuePosition, VenueStatus
from trading.model import OrderSide, OrderType, TimeInForce

__all__ = [
    "SIDE_CODES",
    "TYPE_CODES",
    "account_from_json",
    "client_id_of",
    "execution_from_json",
    "order_from_json",
    "position_from_json",
]

_STATUS = {
    0: VenueStatus.PENDING,
    1: VenueStatus.WORKING,
    2: VenueStatus.FILLED,
    3: VenueStatus.CANCELLED,
    4: VenueStatus.EXPIRED,
    5: VenueStatus.REJECTED,
    6: VenueStatus.PENDING,
}
_TYPE = {1: OrderType.LIMIT, 2: OrderType.MARKET, 3: OrderType.STOP_LIMIT, 4: OrderType.STOP}
TYPE_CODES = {OrderType.LIMIT: 1, OrderType.MARKET: 2, OrderType.STOP_LIMIT: 3, OrderType.STOP: 4}
_SIDE = {0: OrderSide.BUY, 1: OrderSide.SELL}
SIDE_CODES = {OrderSide.BUY: 0, OrderSide.SELL: 1}
_REASONS = {3: "cancelled", 4: "expired", 5: "rejected by the platform"}

Symbols = Callable[[str], str]  # contract id -> our symbol


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _time(value: Any) -> datetime | None:
    return None if not value else datetime.fromisoformat(str(value))


def client_id_of(data: dict[str, Any]) -> str:
    """Our client order id from ``customTag``; ``PX-<id>`` for an order placed elsewhere."""
    tag = data.get("customTag")
    if not tag:
        return f"PX-{data['id']}"
    return tag[: -len(BRACKET_MARK)] if tag.endswith(BRACKET_MARK) else tag


def order_from_json(data: dict[str, Any], symbol_of: Symbols, parent_id: str | None = None) -> VenueOrder:
    code = data.get("type")
    price = _float(data.get("limitPrice"))
    stop = _float(data.get("stopPrice"))
    order_type = _TYPE.get(code) if isinstance(code, int) else None
    if order_type is None:  # trailing stop, join bid/ask: booked by what it is now
        order_type = OrderType.STOP if stop else OrderType.LIMIT if price else OrderType.MARKET
    filled = float(data.get("fillVolume") or 0)
    status_code = data.get("status")
    status = (
        _STATUS.get(status_code, VenueStatus.WORKING) if isinstance(status_code, int) else VenueStatus.WORKING
    )
    if status is VenueStatus.WORKING and filled > 0:
        status = VenueStatus.PARTIALLY_FILLED
    return VenueOrder(
        venue_id=str(data["id"]),
        client_id=client_id_of(data),
        symbol=symbol_of(str(data["contractId"])),
        side=_SIDE[data["side"]],
        quantity=float(data["size"]),
        order_type=order_type,
        status=status,
        filled_quantity=filled,
        avg_fill_price=_float(data.get("filledPrice")) if filled > 0 else None,
        price=price if order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT) else None,
        stop_price=stop if order_type in (OrderType.STOP, OrderType.STOP_LIMIT) else None,
        time_in_force=TimeInForce.DAY,
        parent_id=parent_id,
        closing=parent_id is not None,
        created_at=_time(data.get("creationTimestamp")),
        updated_at=_time(data.get("updateTimestamp")),
        reason=_REASONS.get(status_code, "") if isinstance(status_code, int) else "",
    )


def execution_from_json(data: dict[str, Any]) -> VenueExecution:
    """One trade (an execution of ``orderId``)."""
    return VenueExecution(
        execution_id=f"T{data['id']}",
        quantity=float(data["size"]),
        price=float(data["price"]),
        ts=_time(data.get("creationTimestamp")) or datetime.fromtimestamp(0).astimezone(),
    )


def position_from_json(
    data: dict[str, Any], symbol_of: Symbols, multiplier_of: Callable[[str], Decimal]
) -> VenuePosition:
    symbol = symbol_of(str(data["contractId"]))
    size = Decimal(str(data["size"]))
    quantity = float(size) if data.get("type") != 2 else -float(size)
    avg = Decimal(str(data["averagePrice"]))
    return VenuePosition(
        symbol=symbol,
        quantity=quantity,
        avg_price=float(avg),
        cost_basis=abs(size) * avg * multiplier_of(symbol),
        unrealized_pnl=Decimal(0),
        current_price=None,
    )


def account_from_json(data: dict[str, Any]) -> VenueAccount:
    balance = Decimal(str(data["balance"]))
    return VenueAccount(
        equity=balance,
        cash=balance,
        buying_power=balance,
        currency="USD",
        blocked=not data.get("canTrade", True),
        margin=True,
    )
