"""``AlpacaClient``: the ``VenueClient`` over alpaca-py's ``TradingClient`` (REST).

Blocking calls, made on the venue broker's request lanes only. Set up so that the retries
are ours: the SDK's own retry (a fixed 3 s sleep, three times, on 429 and 504) is switched
off (``_retry = 0``, the only knob ``TradingClient`` has), and every HTTP request gets a
timeout (the SDK sets none: a stalled call would block its thread forever). Answers are
raw JSON (``raw_data=True``), translated by ``wire``. Errors become ``VenueError``s whose
kind says what to do: 429 and 5xx transient (5xx and timeouts *ambiguous*: the order may
have been placed, so a submit is looked up before it is sent again), 422 "client_order_id
must be unique" a duplicate, 403 with a code (insufficient quantity or buying power) and
other 4xx a refusal, 401 / 403 "forbidden." refused keys. No message holds a key.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import requests
from requests.adapters import HTTPAdapter

with warnings.catch_warnings():
    # alpaca-py 0.44's ``alpaca.trading`` package imports websockets.legacy (deprecated in websockets 14).
    warnings.filterwarnings("ignore", "websockets.legacy is deprecated", DeprecationWarning)
    from alpaca.common.enums import Sort
    from alpaca.common.exceptions import APIError
    from alpaca.trading.client import TradingClient
    from alpaca.trading.enums import OrderClass, QueryOrderStatus
    from alpaca.trading.enums import OrderSide as SdkSide
    from alpaca.trading.enums import TimeInForce as SdkTimeInForce
    from alpaca.trading.requests import (
        GetOrderByIdRequest,
        GetOrdersRequest,
        LimitOrderRequest,
        MarketOrderRequest,
        ReplaceOrderRequest,
        StopLimitOrderRequest,
        StopLossRequest,
        StopOrderRequest,
        TakeProfitRequest,
    )
    from alpaca.trading.requests import OrderRequest as SdkOrderRequest

from trading.broker.alpaca.wire import account_from_json, order_from_json, position_from_json
from trading.broker.venue.errors import VenueError, VenueErrorKind
from trading.broker.venue.facts import OrderRequest, VenueAccount, VenueOrder, VenuePosition
from trading.model import OrderSide, OrderType, TimeInForce

__all__ = ["AlpacaClient"]

T = TypeVar("T")

_LIST_LIMIT = 500
_DUPLICATE = 40010001
_NOT_OPEN = 42210000
_AUTH = 40110000
_MAX_RETRY_AFTER = 60.0


class _TimeoutAdapter(HTTPAdapter):
    """Every request on the session gets ``timeout`` seconds unless it names its own."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self._timeout = timeout

    def send(self, request: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self._timeout
        return super().send(request, **kwargs)


class AlpacaClient:
    def __init__(
        self,
        key_id: str,
        secret_key: str,
        *,
        paper: bool,
        url: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self._sdk = TradingClient(key_id, secret_key, paper=paper, raw_data=True, url_override=url)
        self._sdk._retry = 0  # our lanes retry, with backoff, without blocking for 3 s
        adapter = _TimeoutAdapter(timeout)
        self._sdk._session.mount("http://", adapter)
        self._sdk._session.mount("https://", adapter)
        self.endpoint = url or ("paper" if paper else "live")

    # --- orders --------------------------------------------------------------------------

    def submit(self, request: OrderRequest) -> VenueOrder:
        sdk_request = _sdk_request(request)
        return order_from_json(self._call(lambda: self._sdk.submit_order(sdk_request)))

    def find(self, client_id: str) -> VenueOrder | None:
        try:
            found = self._call(lambda: self._sdk.get_order_by_client_id(client_id))
        except VenueError as exc:
            if exc.kind is VenueErrorKind.NOT_FOUND:
                return None
            raise
        if found.get("order_class") not in (None, "", "simple") and not found.get("legs"):
            return self.get(found["id"])  # the by-client-id read has no legs
        return order_from_json(found)

    def get(self, venue_id: str) -> VenueOrder:
        nested = GetOrderByIdRequest(nested=True)
        return order_from_json(self._call(lambda: self._sdk.get_order_by_id(venue_id, nested)))

    def cancel(self, venue_id: str) -> None:
        self._call(lambda: self._sdk.cancel_order_by_id(venue_id))

    def cancel_all(self) -> None:
        self._call(self._sdk.cancel_orders)

    def replace(
        self,
        venue_id: str,
        *,
        client_id: str,
        quantity: float | None,
        price: float | None,
        stop_price: float | None,
    ) -> VenueOrder:
        if quantity is not None and not float(quantity).is_integer():
            raise VenueError(
                f"alpaca replaces whole quantities only, got {quantity:g}", kind=VenueErrorKind.REFUSED
            )
        data = ReplaceOrderRequest(
            qty=None if quantity is None else int(quantity),
            limit_price=price,
            stop_price=stop_price,
            client_order_id=client_id,
        )
        return order_from_json(self._call(lambda: self._sdk.replace_order_by_id(venue_id, data)))

    def open_orders(self) -> list[VenueOrder]:
        query = GetOrdersRequest(status=QueryOrderStatus.OPEN, nested=True, limit=_LIST_LIMIT)
        return [order_from_json(o) for o in self._call(lambda: self._sdk.get_orders(query))]

    def orders_since(self, since: datetime) -> list[VenueOrder]:
        query = GetOrdersRequest(
            status=QueryOrderStatus.ALL, after=since, direction=Sort.ASC, nested=True, limit=_LIST_LIMIT
        )
        return [order_from_json(o) for o in self._call(lambda: self._sdk.get_orders(query))]

    # --- account -------------------------------------------------------------------------

    def positions(self) -> list[VenuePosition]:
        return [position_from_json(p) for p in self._call(self._sdk.get_all_positions)]

    def account(self) -> VenueAccount:
        return account_from_json(self._call(self._sdk.get_account))

    # --- errors --------------------------------------------------------------------------

    @staticmethod
    def _call(fn: Callable[[], T]) -> Any:
        try:
            return fn()
        except APIError as exc:
            raise _venue_error(exc) from None
        except (requests.Timeout, requests.ConnectionError) as exc:
            raise VenueError(f"no answer: {type(exc).__name__}", kind=VenueErrorKind.AMBIGUOUS) from None
        except ValueError as exc:  # the SDK's request validation (pydantic): our order cannot be sent
            raise VenueError(f"not a valid alpaca order: {exc}", kind=VenueErrorKind.REFUSED) from None

    def __repr__(self) -> str:
        return f"AlpacaClient({self.endpoint})"


def _venue_error(exc: APIError) -> VenueError:
    status = exc.status_code
    try:
        body = json.loads(str(exc))
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    code = body.get("code")
    message = str(body.get("message") or str(exc)[:200])
    text = f"HTTP {status}: {message}"
    if status == 429:
        return VenueError(text, kind=VenueErrorKind.TRANSIENT, status=status, retry_after=_retry_after(exc))
    if status is not None and status >= 500:
        return VenueError(text, kind=VenueErrorKind.AMBIGUOUS, status=status)
    if status == 401 or code == _AUTH or (status == 403 and code is None):
        return VenueError(text, kind=VenueErrorKind.AUTH, status=status)
    if status == 404:
        return VenueError(text, kind=VenueErrorKind.NOT_FOUND, status=status)
    if code == _DUPLICATE:
        return VenueError(text, kind=VenueErrorKind.DUPLICATE, status=status)
    if code == _NOT_OPEN:
        return VenueError(text, kind=VenueErrorKind.NOT_OPEN, status=status)
    return VenueError(text, kind=VenueErrorKind.REFUSED, status=status)


def _retry_after(exc: APIError) -> float | None:
    """Seconds the venue asked to wait: ``Retry-After``, else ``X-RateLimit-Reset`` (epoch) when
    the limit is spent; None lets the backoff decide."""
    response = exc.response
    if response is None:
        return None
    headers = response.headers
    try:
        if "Retry-After" in headers:
            return min(_MAX_RETRY_AFTER, max(0.0, float(headers["Retry-After"])))
    except ValueError:
        return None
    return None


_SIDES = {OrderSide.BUY: SdkSide.BUY, OrderSide.SELL: SdkSide.SELL}
_TIFS = {TimeInForce.DAY: SdkTimeInForce.DAY, TimeInForce.GTC: SdkTimeInForce.GTC}
_CLASSES = {"simple": OrderClass.SIMPLE, "oco": OrderClass.OCO, "bracket": OrderClass.BRACKET}


def _sdk_request(request: OrderRequest) -> SdkOrderRequest:
    common: dict[str, Any] = {
        "symbol": request.symbol,
        "qty": request.quantity,
        "side": _SIDES[request.side],
        "time_in_force": _TIFS[request.time_in_force],
        "client_order_id": request.client_id,
    }
    if request.order_class != "simple":
        common["order_class"] = _CLASSES[request.order_class]
        if request.take_profit is not None:
            common["take_profit"] = TakeProfitRequest(limit_price=request.take_profit)
        if request.stop_loss is not None:
            common["stop_loss"] = StopLossRequest(
                stop_price=request.stop_loss, limit_price=request.stop_loss_limit
            )
    kind = request.order_type
    if kind is OrderType.MARKET:
        return MarketOrderRequest(**common)
    if kind is OrderType.LIMIT:
        return LimitOrderRequest(limit_price=request.price, **common)
    if kind is OrderType.STOP:
        return StopOrderRequest(stop_price=request.stop_price, **common)
    return StopLimitOrderRequest(limit_price=request.price, stop_price=request.stop_price, **common)
