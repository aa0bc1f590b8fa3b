"""Alpaca's JSON wire format: the bodies the REST API answers and the stream's messages.

Field names and types were read from alpaca-py 0.44's models (``alpaca/trading/models.py``:
``Order``, ``Position``, ``TradeAccount``, ``TradeUpdate``, ``Asset``, ``Clock``), from the
order/position fixtures in alpaca-py's tests and from the trading-stream messages decoded in
apca's tests (``src/api/v2/updates.rs``). Numbers travel as strings, timestamps as RFC 3339
with nanosecond digits and ``Z``, as Alpaca sends them.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from tests.fakes.alpaca.book import AccountFigures
from tests.fakes.alpaca.order import FakeOrder
from tests.fakes.alpaca.position import FakePosition

__all__ = [
    "account_json",
    "asset_json",
    "authorization_message",
    "clock_json",
    "encode",
    "listening_message",
    "order_json",
    "plain",
    "position_json",
    "timestamp",
    "trade_update_message",
]

_DERIVED = Decimal("0.000000001")  # averages and ratios are shown to 9 decimals
_RATIO = Decimal("0.0000000001")


def plain(value: Decimal) -> str:
    """A decimal as Alpaca writes it: no exponent, no trailing zeros ("100", "179.08", "-5")."""
    text = format(value.normalize(), "f")
    return "0" if text == "-0" else text


def _derived(value: Decimal) -> str:
    return plain(value.quantize(_DERIVED))


def _optional(value: Decimal | None) -> str | None:
    return None if value is None else plain(value)


def timestamp(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"


def order_json(order: FakeOrder, legs: list[FakeOrder] | None = None) -> dict[str, Any]:
    """The order entity; ``legs`` nested when given (POST/PATCH answers, ``nested=true`` reads)."""
    average = order.filled_avg_price
    return {
        "id": order.id,
        "client_order_id": order.client_order_id,
        "created_at": timestamp(order.created_at),
        "updated_at": timestamp(order.updated_at or order.created_at),
        "submitted_at": timestamp(order.created_at),
        "filled_at": timestamp(order.filled_at),
        "expired_at": timestamp(order.expired_at),
        "canceled_at": timestamp(order.canceled_at),
        "failed_at": timestamp(order.failed_at),
        "replaced_at": timestamp(order.replaced_at),
        "replaced_by": order.replaced_by,
        "replaces": order.replaces,
        "asset_id": order.asset_id,
        "symbol": order.symbol,
        "asset_class": "us_equity",
        "notional": None,
        "qty": plain(order.qty),
        "filled_qty": plain(order.filled_qty),
        "filled_avg_price": None if average is None else _derived(average),
        "order_class": order.order_class,
        "order_type": order.type,
        "type": order.type,
        "side": order.side,
        "position_intent": order.position_intent,
        "time_in_force": order.time_in_force,
        "limit_price": _optional(order.limit_price),
        "stop_price": _optional(order.stop_price),
        "status": order.status,
        "extended_hours": order.extended_hours,
        "legs": None if legs is None else [order_json(leg) for leg in legs],
        "trail_percent": None,
        "trail_price": None,
        "hwm": None,
        "expires_at": None,
    }


def position_json(
    position: FakePosition, current: Decimal, qty_available: Decimal, symbol_lastday: Decimal | None
) -> dict[str, Any]:
    """``symbol_lastday`` is the symbol's previous close (``lastday_price``, ``change_today``);
    intraday P&L is measured from it for a position held over the close, else from the entry."""
    market_value = position.qty * current
    cost_basis = position.qty * position.avg_entry_price
    unrealized = market_value - cost_basis
    held_over = position.lastday_price
    intraday_basis = cost_basis if held_over is None else position.qty * held_over
    intraday = market_value - intraday_basis
    lastday = symbol_lastday if symbol_lastday is not None else current
    return {
        "asset_id": position.asset_id,
        "symbol": position.symbol,
        "exchange": "NASDAQ",
        "asset_class": "us_equity",
        "asset_marginable": True,
        "qty": plain(position.qty),
        "qty_available": plain(qty_available),
        "avg_entry_price": _derived(position.avg_entry_price),
        "side": position.side,
        "market_value": plain(market_value),
        "cost_basis": _derived(cost_basis),
        "unrealized_pl": _derived(unrealized),
        "unrealized_plpc": _ratio(unrealized, abs(cost_basis)),
        "unrealized_intraday_pl": _derived(intraday),
        "unrealized_intraday_plpc": _ratio(intraday, abs(intraday_basis)),
        "current_price": plain(current),
        "lastday_price": plain(lastday),
        "change_today": _ratio(current - lastday, lastday),
    }


def _ratio(part: Decimal, whole: Decimal) -> str:
    return "0" if not whole else plain((part / whole).quantize(_RATIO))


def account_json(
    figures: AccountFigures, *, account_id: str, account_number: str, created_at: datetime
) -> dict[str, Any]:
    """The trading account. Fields alpaca-py marks as removed on 2026-07-06 (pattern day
    trader flags, day-trading buying power) are left out, as Alpaca no longer sends them."""
    return {
        "id": account_id,
        "account_number": account_number,
        "status": "ACTIVE",
        "crypto_status": "ACTIVE",
        "currency": "USD",
        "buying_power": plain(figures.buying_power),
        "regt_buying_power": plain(figures.regt_buying_power),
        "non_marginable_buying_power": plain(max(Decimal(0), figures.cash)),
        "options_buying_power": plain(max(Decimal(0), figures.cash)),
        "cash": plain(figures.cash),
        "accrued_fees": "0",
        "pending_transfer_in": "0",
        "pending_transfer_out": "0",
        "portfolio_value": plain(figures.equity),
        "equity": plain(figures.equity),
        "last_equity": plain(figures.last_equity),
        "long_market_value": plain(figures.long_market_value),
        "short_market_value": plain(figures.short_market_value),
        "position_market_value": plain(figures.long_market_value - figures.short_market_value),
        "initial_margin": plain(figures.initial_margin),
        "maintenance_margin": plain(figures.maintenance_margin),
        "last_maintenance_margin": "0",
        "sma": "0",
        "multiplier": plain(figures.multiplier),
        "shorting_enabled": True,
        "trading_blocked": False,
        "transfers_blocked": False,
        "account_blocked": False,
        "trade_suspended_by_user": False,
        "created_at": timestamp(created_at),
        "options_approved_level": 0,
        "options_trading_level": 0,
    }


def asset_json(symbol: str, asset_id: str) -> dict[str, Any]:
    return {
        "id": asset_id,
        "class": "us_equity",
        "exchange": "NASDAQ",
        "symbol": symbol,
        "name": f"{symbol} (fake)",
        "status": "active",
        "tradable": True,
        "marginable": True,
        "shortable": True,
        "easy_to_borrow": True,
        "fractionable": True,
        "maintenance_margin_requirement": 30,
        "attributes": [],
    }


def clock_json(now: datetime, *, is_open: bool) -> dict[str, Any]:
    return {
        "timestamp": timestamp(now),
        "is_open": is_open,
        "next_open": timestamp(now),
        "next_close": timestamp(now),
    }


def trade_update_message(
    event: str,
    order: dict[str, Any],
    at: datetime,
    *,
    execution_id: str | None = None,
    price: Decimal | None = None,
    qty: Decimal | None = None,
    position_qty: Decimal | None = None,
) -> dict[str, Any]:
    """One ``trade_updates`` message. Fill events carry the execution's price and quantity
    and the signed position after it; other events carry the order only."""
    data: dict[str, Any] = {"event": event, "order": order, "timestamp": timestamp(at)}
    if execution_id is not None:
        data["execution_id"] = execution_id
    if price is not None and qty is not None and position_qty is not None:
        data["price"] = plain(price)
        data["qty"] = plain(qty)
        data["position_qty"] = plain(position_qty)
    return {"stream": "trade_updates", "data": data}


def authorization_message(*, authorized: bool) -> dict[str, Any]:
    status = "authorized" if authorized else "unauthorized"
    return {"stream": "authorization", "data": {"status": status, "action": "authenticate"}}


def listening_message(streams: list[str]) -> dict[str, Any]:
    return {"stream": "listening", "data": {"streams": streams}}


def encode(message: dict[str, Any]) -> bytes:
    """Stream messages are JSON in *binary* frames on the paper endpoint (Alpaca's streaming
    docs); alpaca-py's ``TradingStream`` reads them with ``json.loads`` on the bytes."""
    return json.dumps(message, separators=(",", ":")).encode()
