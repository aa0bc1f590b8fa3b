"""Parsing and validating the JSON bodies of POST /v2/orders and PATCH /v2/orders/{id}.

The accepted fields are those alpaca-py's ``OrderRequest.to_request_fields`` and
``ReplaceOrderRequest.to_request_fields`` send (``alpaca/trading/requests.py``): numbers may
arrive as JSON numbers (the SDK sends floats) or strings; they are read into ``Decimal``
through their text so 101.1 stays 101.1. Order kinds the fake does not model (notional,
trailing stop, multi-leg options) are refused with a 422 that says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from tests.fakes.alpaca.errors import ApiRefusal

__all__ = ["OrderSpec", "ReplaceSpec", "check_exit_prices", "parse_order", "parse_replace"]

SIDES = frozenset({"buy", "sell"})
TYPES = frozenset({"market", "limit", "stop", "stop_limit"})
TIME_IN_FORCE = frozenset({"day", "gtc", "opg", "cls", "ioc", "fok"})
CLASSES = frozenset({"simple", "bracket", "oco", "oto"})
MAX_CLIENT_ORDER_ID = 128
TICK = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class OrderSpec:
    symbol: str
    qty: Decimal
    side: str
    type: str
    time_in_force: str
    order_class: str = "simple"
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    extended_hours: bool = False
    client_order_id: str | None = None
    take_profit_limit: Decimal | None = None
    stop_loss_stop: Decimal | None = None
    stop_loss_limit: Decimal | None = None


@dataclass(frozen=True, slots=True)
class ReplaceSpec:
    qty: Decimal | None = None
    time_in_force: str | None = None
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    client_order_id: str | None = None


def _decimal(body: dict[str, Any], field: str) -> Decimal | None:
    raw = body.get(field)
    if raw is None:
        return None
    if isinstance(raw, bool):
        raise ApiRefusal.invalid(f"invalid {field}")
    try:
        value = Decimal(str(raw))
    except InvalidOperation as exc:
        raise ApiRefusal.invalid(f"invalid {field}") from exc
    if not value.is_finite():
        raise ApiRefusal.invalid(f"invalid {field}")
    return value


def _choice(body: dict[str, Any], field: str, allowed: frozenset[str], default: str | None = None) -> str:
    raw = body.get(field, default)
    if raw is None:
        raise ApiRefusal.invalid(f"{field} is required")
    if raw not in allowed:
        raise ApiRefusal.invalid(f"invalid {field}: {raw}")
    return str(raw)


def _client_order_id(body: dict[str, Any]) -> str | None:
    raw = body.get("client_order_id")
    if raw is None:
        return None
    text = str(raw)
    if len(text) > MAX_CLIENT_ORDER_ID:
        raise ApiRefusal.invalid(f"client_order_id must be no more than {MAX_CLIENT_ORDER_ID} characters")
    return text


def _unsupported(body: dict[str, Any]) -> None:
    if body.get("notional") is not None:
        raise ApiRefusal.invalid("notional orders are not supported by the fake")
    if body.get("type") == "trailing_stop":
        raise ApiRefusal.invalid("trailing_stop orders are not supported by the fake")
    if body.get("order_class") == "mleg" or body.get("legs"):
        raise ApiRefusal.invalid("multi-leg orders are not supported by the fake")


def parse_order(body: Any) -> OrderSpec:
    if not isinstance(body, dict):
        raise ApiRefusal.bad_body()
    _unsupported(body)
    symbol = body.get("symbol")
    if not symbol:
        raise ApiRefusal.invalid("symbol is required")
    qty = _decimal(body, "qty")
    if qty is None:
        raise ApiRefusal.invalid("qty is required")
    if qty <= 0:
        raise ApiRefusal.invalid("qty must be > 0")
    take_profit = body.get("take_profit") or {}
    stop_loss = body.get("stop_loss") or {}
    spec = OrderSpec(
        symbol=str(symbol).upper(),
        qty=qty,
        side=_choice(body, "side", SIDES),
        type=_choice(body, "type", TYPES),
        time_in_force=_choice(body, "time_in_force", TIME_IN_FORCE),
        order_class=_choice(body, "order_class", CLASSES, default="simple"),
        limit_price=_decimal(body, "limit_price"),
        stop_price=_decimal(body, "stop_price"),
        extended_hours=bool(body.get("extended_hours", False)),
        client_order_id=_client_order_id(body),
        take_profit_limit=_decimal(take_profit, "limit_price"),
        stop_loss_stop=_decimal(stop_loss, "stop_price"),
        stop_loss_limit=_decimal(stop_loss, "limit_price"),
    )
    _check_prices(spec)
    _check_class(spec)
    return spec


def _check_prices(spec: OrderSpec) -> None:
    if spec.type in ("limit", "stop_limit") and spec.limit_price is None and spec.order_class != "oco":
        raise ApiRefusal.invalid("limit_price is required")
    if spec.type in ("stop", "stop_limit") and spec.stop_price is None:
        raise ApiRefusal.invalid("stop_price is required")
    for price in (spec.limit_price, spec.stop_price, spec.take_profit_limit, spec.stop_loss_stop):
        if price is not None and price <= 0:
            raise ApiRefusal.invalid("price must be > 0")


def _check_class(spec: OrderSpec) -> None:
    has_tp = spec.take_profit_limit is not None
    has_sl = spec.stop_loss_stop is not None
    if spec.order_class == "simple":
        return
    if spec.time_in_force not in ("day", "gtc"):
        raise ApiRefusal.invalid(f"{spec.order_class} orders must be day or gtc")
    if spec.order_class in ("bracket", "oco") and not (has_tp and has_sl):
        raise ApiRefusal.invalid(f"{spec.order_class} orders require take_profit and stop_loss")
    if spec.order_class == "oto" and has_tp == has_sl:
        raise ApiRefusal.invalid("oto orders require either take_profit or stop_loss")
    if spec.order_class == "oco" and spec.type != "limit":
        raise ApiRefusal.invalid("oco orders must be limit orders")


def check_exit_prices(spec: OrderSpec, base_price: Decimal | None) -> None:
    """Alpaca's bracket rule: the take-profit must sit at least a cent beyond the base price
    (the entry's limit, else the current price) and the stop-loss at least a cent short of it."""
    if base_price is None or spec.order_class not in ("bracket", "oto"):
        return
    buy = spec.side == "buy"
    tp, sl = spec.take_profit_limit, spec.stop_loss_stop
    if tp is not None and (tp < base_price + TICK if buy else tp > base_price - TICK):
        bound = "base_price + 0.01" if buy else "base_price - 0.01"
        relation = ">=" if buy else "<="
        raise ApiRefusal.unprocessable(f"take_profit.limit_price must be {relation} {bound}")
    if sl is not None and (sl > base_price - TICK if buy else sl < base_price + TICK):
        bound = "base_price - 0.01" if buy else "base_price + 0.01"
        relation = "<=" if buy else ">="
        raise ApiRefusal.unprocessable(f"stop_loss.stop_price must be {relation} {bound}")


def parse_replace(body: Any) -> ReplaceSpec:
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise ApiRefusal.bad_body()
    if body.get("trail") is not None:
        raise ApiRefusal.invalid("trailing_stop orders are not supported by the fake")
    qty = _decimal(body, "qty")
    if qty is not None and qty <= 0:
        raise ApiRefusal.invalid("qty must be > 0")
    tif = body.get("time_in_force")
    if tif is not None and tif not in TIME_IN_FORCE:
        raise ApiRefusal.invalid(f"invalid time_in_force: {tif}")
    return ReplaceSpec(
        qty=qty,
        time_in_force=tif,
        limit_price=_decimal(body, "limit_price"),
        stop_price=_decimal(body, "stop_price"),
        client_order_id=_client_order_id(body),
    )
