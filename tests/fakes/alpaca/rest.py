"""The REST half of the fake: Alpaca's /v2 trading endpoints as alpaca-py 0.44 calls them.

Paths, methods and parameters were read from ``alpaca/trading/client.py`` (``TradingClient``)
and ``alpaca/common/rest.py`` (``RESTClient``): the SDK sends ``APCA-API-KEY-ID`` and
``APCA-API-SECRET-KEY`` headers, query parameters for GET and DELETE, a JSON body for POST and
PATCH; it raises ``APIError`` with the response text for any status >= 400 (its ``code`` and
``message`` properties parse that text as JSON) and retries 429 and 504 answers. Each request
passes, in order: a planned stall, the key check (401 without keys, 403 with wrong ones or a
planned refusal), a planned error answer, then the endpoint. Every request is recorded.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.alpaca.engine import MatchingEngine
from tests.fakes.alpaca.errors import ApiRefusal
from tests.fakes.alpaca.faults import FaultPlan
from tests.fakes.alpaca.recorder import RecordedRequest, RequestLog
from tests.fakes.alpaca.stream import Credentials
from tests.fakes.alpaca.wire import account_json, asset_json, clock_json

__all__ = ["AccountIdentity", "RestApi"]

KEY_HEADER = "APCA-API-KEY-ID"
SECRET_HEADER = "APCA-API-SECRET-KEY"

Answer = tuple[int, Any]  # status and JSON content (None: empty body)
Handler = Callable[[Request, Any], Answer]


class AccountIdentity(NamedTuple):
    account_id: str
    account_number: str
    created_at: datetime


def _flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "").lower() == "true"


def _query_decimal(request: Request, name: str) -> Decimal | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    try:
        return Decimal(raw)
    except InvalidOperation as exc:
        raise ApiRefusal.invalid(f"invalid {name}") from exc


def _query_time(request: Request, name: str) -> datetime | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    try:
        return datetime.fromisoformat(raw)
    except ValueError as exc:
        raise ApiRefusal.invalid(f"invalid {name}") from exc


class RestApi:
    def __init__(
        self,
        *,
        engine: MatchingEngine,
        credentials: Credentials,
        faults: FaultPlan,
        log: RequestLog,
        identity: AccountIdentity,
        now: Callable[[], datetime],
        market_open: Callable[[], bool],
    ) -> None:
        self._engine = engine
        self._credentials = credentials
        self._faults = faults
        self._log = log
        self._identity = identity
        self._now = now
        self._market_open = market_open

    def __repr__(self) -> str:
        return f"RestApi(requests={len(self._log)})"

    def routes(self) -> list[Route]:
        table: list[tuple[str, str, Handler]] = [
            ("/v2/account", "GET", self._account),
            ("/v2/clock", "GET", self._clock),
            ("/v2/assets/{symbol}", "GET", self._asset),
            ("/v2/orders", "GET", self._list_orders),
            ("/v2/orders", "POST", self._submit),
            ("/v2/orders", "DELETE", self._cancel_all),
            ("/v2/orders:by_client_order_id", "GET", self._order_by_client_id),
            ("/v2/orders/{order_id}", "GET", self._order),
            ("/v2/orders/{order_id}", "PATCH", self._replace),
            ("/v2/orders/{order_id}", "DELETE", self._cancel),
            ("/v2/positions", "GET", self._positions),
            ("/v2/positions", "DELETE", self._close_all),
            ("/v2/positions/{symbol}", "GET", self._position),
            ("/v2/positions/{symbol}", "DELETE", self._close),
        ]
        by_path: dict[str, dict[str, Handler]] = {}
        for path, method, handler in table:
            by_path.setdefault(path, {})[method] = handler
        return [
            Route(path, self._endpoint(handlers), methods=list(handlers))
            for path, handlers in by_path.items()
        ]

    def _endpoint(self, handlers: dict[str, Handler]) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            return await self._handle(request, handlers[request.method])

        return endpoint

    async def _handle(self, request: Request, handler: Handler) -> Response:
        method, path = request.method, request.url.path
        raw = await request.body()
        headers: dict[str, str] = {}
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body, answer = None, (400, ApiRefusal.bad_body().body)
        else:
            answer, headers = await self._answer(request, body, handler)
        status, content = answer
        self._log.append(
            RecordedRequest(
                method, path, dict(request.query_params), body, request.headers.get(KEY_HEADER), status
            )
        )
        if content is None:
            return Response(status_code=status, headers=headers)
        return JSONResponse(content, status_code=status, headers=headers)

    async def _answer(self, request: Request, body: Any, handler: Handler) -> tuple[Answer, dict[str, str]]:
        method, path = request.method, request.url.path
        delay = self._faults.take_stall(method, path)
        if delay:
            await asyncio.sleep(delay)
        key_id, secret = request.headers.get(KEY_HEADER), request.headers.get(SECRET_HEADER)
        if key_id is None or secret is None:
            refusal = ApiRefusal.unauthorized()
            return (refusal.status, refusal.body), {}
        if not self._credentials.accepts(key_id, secret) or self._faults.take_rest_auth_refusal():
            refusal = ApiRefusal.forbidden()
            return (refusal.status, refusal.body), {}
        fault = self._faults.take_rest_fault(method, path)
        if fault is not None:
            return (fault.status, fault.body), dict(fault.headers)
        try:
            return handler(request, body), {}
        except ApiRefusal as refusal:
            return (refusal.status, refusal.body), {}

    # -- endpoints ---------------------------------------------------------------------

    def _account(self, request: Request, body: Any) -> Answer:
        identity = self._identity
        return 200, account_json(
            self._engine.figures(),
            account_id=identity.account_id,
            account_number=identity.account_number,
            created_at=identity.created_at,
        )

    def _clock(self, request: Request, body: Any) -> Answer:
        return 200, clock_json(self._now(), is_open=self._market_open())

    def _asset(self, request: Request, body: Any) -> Answer:
        symbol = request.path_params["symbol"].upper()
        return 200, asset_json(symbol, self._engine.asset_id(symbol))

    def _list_orders(self, request: Request, body: Any) -> Answer:
        query = request.query_params
        status = query.get("status", "open")
        if status not in ("open", "closed", "all"):
            raise ApiRefusal.invalid(f"invalid status: {status}")
        symbols = query.get("symbols")
        try:
            limit = int(query.get("limit", "50"))
        except ValueError as exc:
            raise ApiRefusal.invalid("invalid limit") from exc
        return 200, self._engine.orders(
            status=status,
            limit=limit,
            direction=query.get("direction", "desc"),
            nested=_flag(request, "nested"),
            symbols=None if not symbols else {s.strip().upper() for s in symbols.split(",")},
            side=query.get("side"),
            after=_query_time(request, "after"),
            until=_query_time(request, "until"),
        )

    def _submit(self, request: Request, body: Any) -> Answer:
        return 200, self._engine.submit(body)

    def _cancel_all(self, request: Request, body: Any) -> Answer:
        return 207, self._engine.cancel_all()

    def _order_by_client_id(self, request: Request, body: Any) -> Answer:
        client_order_id = request.query_params.get("client_order_id")
        if not client_order_id:
            raise ApiRefusal.invalid("client_order_id is required")
        return 200, self._engine.order_by_client_id(client_order_id)

    def _order(self, request: Request, body: Any) -> Answer:
        return 200, self._engine.order(request.path_params["order_id"], nested=_flag(request, "nested"))

    def _replace(self, request: Request, body: Any) -> Answer:
        return 200, self._engine.replace(request.path_params["order_id"], body)

    def _cancel(self, request: Request, body: Any) -> Answer:
        self._engine.cancel(request.path_params["order_id"])
        return 204, None

    def _positions(self, request: Request, body: Any) -> Answer:
        return 200, self._engine.positions()

    def _position(self, request: Request, body: Any) -> Answer:
        return 200, self._engine.position(request.path_params["symbol"])

    def _close(self, request: Request, body: Any) -> Answer:
        return 200, self._engine.close_position(
            request.path_params["symbol"],
            qty=_query_decimal(request, "qty"),
            percentage=_query_decimal(request, "percentage"),
        )

    def _close_all(self, request: Request, body: Any) -> Answer:
        return 207, self._engine.close_all_positions(cancel_orders=_flag(request, "cancel_orders"))
