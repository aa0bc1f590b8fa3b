"""The REST half of the fake: the ProjectX Gateway's ``/api`` endpoints a desk adapter uses.

Every endpoint is a ``POST`` with a JSON body (gateway docs, API reference), authenticated by
``Authorization: Bearer <session token>`` except ``/api/Auth/loginKey`` and
``GET /api/Status/ping``; routes match case-insensitively (the docs write both
``/api/Order/place`` and ``/api/order/place``). Each request passes, in order: its JSON
parsing (400), a planned stall, a planned error answer (429, 5xx...), the token check (401),
then the endpoint, whose refusals are ``200 {"success": false, "errorCode": N}``. Every
request is recorded, without secrets.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from tests.fakes.projectx.body import Body
from tests.fakes.projectx.contracts import ContractDirectory
from tests.fakes.projectx.engine import MatchingEngine
from tests.fakes.projectx.errors import ApiRefusal, ErrorCode
from tests.fakes.projectx.faults import FaultPlan
from tests.fakes.projectx.order_requests import ModifyRequest, PlaceRequest
from tests.fakes.projectx.recorder import RecordedRequest, RequestLog, redacted
from tests.fakes.projectx.sessions import LoginOutcome, SessionTokens, TokenState
from tests.fakes.projectx.wire import contract_json, success

__all__ = ["RestApi"]

Handler = Callable[[Body, str | None], dict[str, Any]]
UNAUTHENTICATED = frozenset({"/api/auth/loginkey"})


def _bearer(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


class RestApi:
    def __init__(
        self,
        *,
        engine: MatchingEngine,
        contracts: ContractDirectory,
        tokens: SessionTokens,
        faults: FaultPlan,
        log: RequestLog,
    ) -> None:
        self._engine = engine
        self._contracts = contracts
        self._tokens = tokens
        self._faults = faults
        self._log = log
        self._handlers: dict[str, Handler] = {
            "/api/auth/loginkey": self._login_key,
            "/api/auth/validate": self._validate,
            "/api/auth/logout": self._logout,
            "/api/account/search": self._search_accounts,
            "/api/contract/search": self._search_contracts,
            "/api/contract/searchbyid": self._contract_by_id,
            "/api/order/search": self._search_orders,
            "/api/order/searchopen": self._search_open_orders,
            "/api/order/place": self._place,
            "/api/order/modify": self._modify,
            "/api/order/cancel": self._cancel,
            "/api/position/searchopen": self._search_positions,
            "/api/position/closecontract": self._close_contract,
            "/api/position/partialclosecontract": self._partial_close_contract,
            "/api/trade/search": self._search_trades,
        }

    def __repr__(self) -> str:
        return f"RestApi(endpoints={len(self._handlers)}, requests={len(self._log)})"

    def routes(self) -> list[Route]:
        return [Route("/api/{rest:path}", self._endpoint, methods=["GET", "POST"])]

    async def _endpoint(self, request: Request) -> Response:
        path = request.url.path
        key = path.lower().rstrip("/")
        if request.method == "GET":
            return PlainTextResponse("pong") if key == "/api/status/ping" else Response(status_code=405)
        handler = self._handlers.get(key)
        if handler is None:
            return Response(status_code=404)
        token = _bearer(request)
        raw = await request.body()
        body: Any = None
        try:
            body = json.loads(raw) if raw else None
            status, content, headers = await self._answer(key, body, token, handler)
        except ValueError:
            refusal = ApiRefusal.invalid("$", "The request body is not valid JSON.")
            status, content, headers = refusal.status, refusal.body, {}
        self._log.append(
            RecordedRequest(
                request.method,
                path,
                dict(request.query_params),
                redacted(body),
                self._tokens.token_id(token),
                status,
                content.get("errorCode") if isinstance(content, dict) else None,
            )
        )
        if content is None:
            return Response(status_code=status, headers=headers)
        if status == 400:
            return JSONResponse(content, status_code=400, media_type="application/problem+json")
        return JSONResponse(content, status_code=status, headers=headers)

    async def _answer(
        self, key: str, body: Any, token: str | None, handler: Handler
    ) -> tuple[int, dict[str, Any] | None, dict[str, str]]:
        delay = self._faults.take_stall(key)
        if delay:
            await asyncio.sleep(delay)
        fault = self._faults.take_rest_fault(key)
        if fault is not None:
            return fault.status, fault.body, dict(fault.headers)
        if key not in UNAUTHENTICATED and self._tokens.state(token) is not TokenState.VALID:
            return 401, None, {}
        try:
            return 200, handler(Body(body), token), {}
        except ApiRefusal as refusal:
            return refusal.status, refusal.body, {}

    # -- authentication ----------------------------------------------------------------

    def _login_key(self, body: Body, token: str | None) -> dict[str, Any]:
        outcome, issued = self._tokens.login(body.text("userName"), body.text("apiKey"))
        if outcome is LoginOutcome.USER_NOT_FOUND:
            raise ApiRefusal.failure(ErrorCode.USER_NOT_FOUND, None, token=None)
        if outcome is LoginOutcome.INVALID_CREDENTIALS:
            raise ApiRefusal.failure(ErrorCode.INVALID_CREDENTIALS, None, token=None)
        return success(token=issued)

    def _validate(self, body: Body, token: str | None) -> dict[str, Any]:
        assert token is not None  # checked before the handler runs
        return success(newToken=self._tokens.renew(token))

    def _logout(self, body: Body, token: str | None) -> dict[str, Any]:
        assert token is not None
        self._tokens.revoke(token)
        return success()

    # -- accounts and contracts --------------------------------------------------------

    def _search_accounts(self, body: Body, token: str | None) -> dict[str, Any]:
        return success(accounts=self._engine.accounts(only_active=body.boolean("onlyActiveAccounts")))

    def _search_contracts(self, body: Body, token: str | None) -> dict[str, Any]:
        if body.has("live"):
            body.boolean("live")  # accepted and ignored: the fake has one market
        found = self._contracts.search(body.text("searchText"))
        return success(contracts=[contract_json(spec) for spec in found])

    def _contract_by_id(self, body: Body, token: str | None) -> dict[str, Any]:
        spec = self._contracts.get(body.text("contractId"))
        if spec is None:
            raise ApiRefusal.failure(ErrorCode.CONTRACT_NOT_FOUND_BY_ID, None, contract=None)
        return success(contract=contract_json(spec))

    # -- orders ------------------------------------------------------------------------

    def _search_orders(self, body: Body, token: str | None) -> dict[str, Any]:
        orders = self._engine.orders(
            body.integer("accountId"),
            start=body.moment("startTimestamp"),
            end=body.optional_moment("endTimestamp"),
        )
        return success(orders=orders)

    def _search_open_orders(self, body: Body, token: str | None) -> dict[str, Any]:
        return success(orders=self._engine.orders(body.integer("accountId"), open_only=True))

    def _place(self, body: Body, token: str | None) -> dict[str, Any]:
        return success(orderId=self._engine.place(PlaceRequest.from_body(body)))

    def _modify(self, body: Body, token: str | None) -> dict[str, Any]:
        self._engine.modify(ModifyRequest.from_body(body))
        return success()

    def _cancel(self, body: Body, token: str | None) -> dict[str, Any]:
        self._engine.cancel(body.integer("accountId"), body.integer("orderId"))
        return success()

    # -- positions and trades ----------------------------------------------------------

    def _search_positions(self, body: Body, token: str | None) -> dict[str, Any]:
        return success(positions=self._engine.positions(body.integer("accountId")))

    def _close_contract(self, body: Body, token: str | None) -> dict[str, Any]:
        self._engine.close_position(body.integer("accountId"), body.text("contractId"))
        return success()

    def _partial_close_contract(self, body: Body, token: str | None) -> dict[str, Any]:
        self._engine.close_position(body.integer("accountId"), body.text("contractId"), body.integer("size"))
        return success()

    def _search_trades(self, body: Body, token: str | None) -> dict[str, Any]:
        trades = self._engine.trades(
            body.integer("accountId"),
            start=body.moment("startTimestamp"),
            end=body.optional_moment("endTimestamp"),
        )
        return success(trades=trades)
