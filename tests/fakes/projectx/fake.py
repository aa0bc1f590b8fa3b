"""``FakeProjectX``: a local ProjectX Gateway (REST, the realtime user hub and the market hub)
for tests, and the handles to drive it.

    with FakeProjectX() as fake:
        # REST:  POST {fake.base_url}/api/Auth/loginKey {"userName": fake.user_name, "apiKey": fake.api_key}
        # hubs:  SignalRClient(f"{fake.user_hub_url}?access_token={token}"), fake.market_hub_url
        fake.set_price("ES", 5000)                       # a trade at 5000: a quote, and orders it reaches fill
        fake.set_quote("ES", last=4999.75, bid=4999.5, ask=4999.75)  # market orders take the book's side
        fake.place_hand_order(account, "ES", "buy", 2)   # as if from the platform's UI
        fake.expire_tokens()                             # every session token issued so far expires
        fake.faults.drop_hub_after("GatewayUserTrade")   # and rate_limit, stall_rest, reject_orders...
        fake.requests.matching("/api/Order/place")

The parts, each in its own module: ``RestApi`` (endpoints), two ``HubServer``s (SignalR
websockets: ``USER_HUB``, ``MARKET_HUB``), ``MatchingEngine`` (orders, fills, events) over an
``AccountBook`` (balances, positions), ``QuoteBoard`` (each contract's quote),
``ContractDirectory``, ``SessionTokens``, ``FaultPlan`` (one for REST and the user hub, one for
the market hub: ``market_faults``), ``RequestLog``, and the ``ServerThread`` of the Alpaca fake
(uvicorn on 127.0.0.1, an ephemeral port).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import TracebackType
from typing import Any, Literal

from starlette.applications import Starlette

from tests.fakes.alpaca.server_thread import ServerThread
from tests.fakes.projectx.book import AccountBook, AccountSetup
from tests.fakes.projectx.contracts import ContractDirectory, ContractSpec
from tests.fakes.projectx.engine import HubEvent, MatchingEngine
from tests.fakes.projectx.enums import OrderSide, OrderType
from tests.fakes.projectx.faults import FaultPlan
from tests.fakes.projectx.hub_server import (
    DenialLogFilter,
    HubConnectionRecord,
    HubInvocation,
    HubServer,
    HubStatistics,
)
from tests.fakes.projectx.market_hub import MARKET_HUB
from tests.fakes.projectx.order import BracketSpec
from tests.fakes.projectx.order_requests import PlaceRequest
from tests.fakes.projectx.quotes import QuoteBoard
from tests.fakes.projectx.recorder import RequestLog
from tests.fakes.projectx.rest import RestApi
from tests.fakes.projectx.sessions import SessionTokens
from tests.fakes.projectx.user_hub import USER_HUB

__all__ = ["DEFAULT_ACCOUNTS", "FakeProjectX", "Number"]

Number = Decimal | int | float | str

DEFAULT_ACCOUNTS = (
    AccountSetup("50KTC-V2-FAKE-EVAL", Decimal(50_000), simulated=True),
    AccountSetup("LIVE-FAKE-FUNDED", Decimal(50_000), simulated=False),
)
ORDER_TYPES = {"market": OrderType.MARKET, "limit": OrderType.LIMIT, "stop": OrderType.STOP}
SIDES = {"buy": OrderSide.BID, "sell": OrderSide.ASK}


def _decimal(value: Number) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _utc_now() -> datetime:
    return datetime.now(UTC)


class FakeProjectX:
    """One ProjectX user with its accounts behind a real HTTP + websocket server on 127.0.0.1."""

    def __init__(
        self,
        *,
        user_name: str = "desk-tester",
        api_key: str = "fake-projectx-api-key-for-tests-only",
        accounts: Sequence[AccountSetup] = DEFAULT_ACCOUNTS,
        months: tuple[str, ...] = ("Z25", "H26"),
        token_ttl: timedelta = timedelta(hours=24),
        ping_interval: float = 15.0,
        now: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.user_name = user_name
        self.api_key = api_key
        self.faults = FaultPlan()
        self.requests = RequestLog()
        self.contracts = ContractDirectory(months)
        self._account_names = [setup.name for setup in accounts]
        self.market_faults = FaultPlan()  # the market hub's refusals and drops
        self.quotes = QuoteBoard()
        self._now = now
        self._tokens = SessionTokens(user_name=user_name, api_key=api_key, ttl=token_ttl, now=now)
        self._hub = HubServer(USER_HUB, tokens=self._tokens, faults=self.faults, ping_interval=ping_interval)
        self._market_hub = HubServer(
            MARKET_HUB, tokens=self._tokens, faults=self.market_faults, ping_interval=ping_interval
        )
        self._book = AccountBook(accounts)
        self.engine = MatchingEngine(
            book=self._book, contracts=self.contracts, faults=self.faults, publish=self._publish_user, now=now
        )
        rest = RestApi(
            engine=self.engine,
            contracts=self.contracts,
            tokens=self._tokens,
            faults=self.faults,
            log=self.requests,
        )
        app = Starlette(routes=[*rest.routes(), *self._hub.routes(), *self._market_hub.routes()])
        self._server = ServerThread(app, on_loop=self._bind)
        self._denial_filter = DenialLogFilter()

    def __repr__(self) -> str:
        return f"FakeProjectX({self._server!r}, {self.engine!r}, {self._hub!r}, {self._market_hub!r})"

    def _bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._hub.bind(loop)
        self._market_hub.bind(loop)

    def _publish_user(self, target: str, account_id: int, payload: dict[str, Any]) -> None:
        self._hub.publish(target, account_id, [payload], payload["data"])

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> FakeProjectX:
        logging.getLogger("uvicorn.error").addFilter(self._denial_filter)
        self._server.start()
        return self

    def stop(self) -> None:
        try:
            self._hub.drop_all()
            self._market_hub.drop_all()
            self._server.stop()
        finally:
            logging.getLogger("uvicorn.error").removeFilter(self._denial_filter)

    def __enter__(self) -> FakeProjectX:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """The REST base: endpoints are ``{base_url}/api/...``."""
        return f"http://127.0.0.1:{self._server.port}"

    @property
    def user_hub_url(self) -> str:
        """The user hub, as the gateway names it (``https://rtc.<firm>.../hubs/user``)."""
        return f"http://127.0.0.1:{self._server.port}/hubs/user"

    @property
    def market_hub_url(self) -> str:
        """The market hub, as the gateway names it (``https://rtc.<firm>.../hubs/market``)."""
        return f"http://127.0.0.1:{self._server.port}/hubs/market"

    # -- accounts and contracts --------------------------------------------------------

    def account_id(self, name: str) -> int:
        return self._book_account_ids()[self._account_names.index(name)]

    @property
    def account_ids(self) -> list[int]:
        return self._book_account_ids()

    def _book_account_ids(self) -> list[int]:
        return [account["id"] for account in self.engine.accounts(only_active=False)]

    def contract(self, symbol_or_id: str) -> ContractSpec:
        """``ES`` is the front-month contract (``CON.F.US.EP.Z25`` by default); an id is itself."""
        return self.contracts.resolve(symbol_or_id)

    def account(self, account_id: int) -> dict[str, Any]:
        return self.engine.account(account_id)

    def set_can_trade(self, account_id: int, can_trade: bool) -> None:
        """The platform allows or stops trading on the account (as a firm's rule would);
        ``GatewayUserAccount`` tells the hub; a refused place answers errorCode 4."""
        self.engine.set_can_trade(account_id, can_trade)

    # -- the market --------------------------------------------------------------------

    def set_price(self, contract: str, price: Number, *, max_fill: int | None = None) -> None:
        """The contract now trades at ``price`` (the book not known): a ``GatewayQuote`` to the
        market hub's subscribers, then working orders it reaches fill (at most ``max_fill``
        contracts each when given: a partial fill)."""
        self.set_quote(contract, last=price, max_fill=max_fill)

    def set_quote(
        self,
        contract: str,
        *,
        last: Number | None = None,
        bid: Number | None = None,
        ask: Number | None = None,
        volume: int | None = None,
        partial: bool = False,
        max_fill: int | None = None,
    ) -> dict[str, Any]:
        """A new quote for the contract: ``last`` traded (None: no trade), the book's best
        ``bid`` and ``ask`` (market orders fill at them). Published as ``GatewayQuote`` to the
        market hub's subscribers, whole, or with ``partial`` only the fields given; then
        working orders the market reaches fill. Returns the quote's data as sent."""
        spec = self.contract(contract)
        quote, data = self.quotes.set(
            spec,
            self._now(),
            last=None if last is None else _decimal(last),
            bid=None if bid is None else _decimal(bid),
            ask=None if ask is None else _decimal(ask),
            volume=volume,
            partial=partial,
        )
        self._market_hub.publish("GatewayQuote", spec.id, [spec.id, data], data)
        self.engine.set_price(spec, quote.last, bid=quote.bid, ask=quote.ask, max_fill=max_fill)
        return data

    def fill(self, order_id: int, qty: int, price: Number) -> None:
        """Fill ``qty`` contracts of a working order at ``price`` now (a partial fill when short of its size)."""
        self.engine.fill(order_id, qty, _decimal(price))

    # -- orders placed outside the client under test -----------------------------------

    def place_hand_order(
        self,
        account_id: int,
        contract: str,
        side: Literal["buy", "sell"],
        size: int,
        *,
        type: Literal["market", "limit", "stop"] = "market",
        limit_price: Number | None = None,
        stop_price: Number | None = None,
        stop_loss_ticks: int | None = None,
        take_profit_ticks: int | None = None,
        custom_tag: str | None = None,
    ) -> int:
        """An order as if placed in the platform's UI: not a REST request of the client under
        test, but in REST reads and on the hub like any other. Brackets take signed ticks
        (stop loss as a stop order, take profit as a limit). Returns the order id."""
        request = PlaceRequest(
            account_id=account_id,
            contract_id=self.contract(contract).id,
            type=ORDER_TYPES[type],
            side=SIDES[side],
            size=size,
            limit_price=None if limit_price is None else _decimal(limit_price),
            stop_price=None if stop_price is None else _decimal(stop_price),
            custom_tag=custom_tag,
            stop_loss=None if stop_loss_ticks is None else BracketSpec(stop_loss_ticks, OrderType.STOP),
            take_profit=None
            if take_profit_ticks is None
            else BracketSpec(take_profit_ticks, OrderType.LIMIT),
        )
        return self.engine.place(request, source="hand")

    def cancel_by_hand(self, account_id: int, order_id: int) -> None:
        self.engine.cancel(account_id, order_id)

    def close_by_hand(self, account_id: int, contract: str) -> int:
        """Flatten the position from the platform's UI; returns the closing order's id."""
        return self.engine.close_position(account_id, self.contract(contract).id)

    # -- sessions ----------------------------------------------------------------------

    def expire_tokens(self) -> int:
        """Every session token issued so far expires now (REST answers 401, hub connections
        and negotiations are refused; open hub connections stay). Returns how many were valid."""
        return self._tokens.expire_all()

    @property
    def token_ttl(self) -> timedelta:
        return self._tokens.ttl

    @token_ttl.setter
    def token_ttl(self, ttl: timedelta) -> None:
        """The lifetime of tokens issued from now on (24 hours by default, as the gateway's)."""
        self._tokens.ttl = ttl

    def logins(self) -> int:
        """Successful ``/api/Auth/loginKey`` calls so far."""
        return self._tokens.logins()

    # -- the user hub ------------------------------------------------------------------

    def drop_hub(self) -> int:
        """Close every hub connection now (websocket close 1011); returns how many."""
        return self._hub.drop_all()

    def close_hub(self, *, error: str | None = None, allow_reconnect: bool | None = None) -> int:
        """Send every hub connection a SignalR close message (type 7), then close it."""
        return self._hub.close_all(error=error, allow_reconnect=allow_reconnect)

    def pause_hub(self) -> None:
        """Hold events and pings on open hub connections (silent, not closed) until ``resume_hub``."""
        self._hub.pause()

    def resume_hub(self) -> None:
        self._hub.resume()

    def hub_statistics(self) -> HubStatistics:
        return self._hub.statistics()

    def hub_invocations(self) -> list[HubInvocation]:
        return self._hub.invocations()

    def hub_connections(self) -> list[HubConnectionRecord]:
        return self._hub.connection_log()

    def hub_subscribers(self, kind: str, account_id: int | None = None) -> int:
        return self._hub.subscribers(kind, account_id)

    def wait_for_hub(self, predicate: Callable[[HubServer], bool], timeout: float = 5.0) -> bool:
        return self._hub.wait_for(predicate, timeout)

    def wait_for_subscription(
        self, kind: str, account_id: int | None = None, *, count: int = 1, timeout: float = 5.0
    ) -> bool:
        """Wait until ``count`` open connections are subscribed to ``kind`` for ``account_id``
        (None for ``accounts``)."""
        return self._hub.wait_for(lambda hub: hub.subscribers(kind, account_id) >= count, timeout)

    # -- the market hub ----------------------------------------------------------------

    def drop_market_hub(self) -> int:
        """Close every market hub connection now (websocket close 1011); returns how many."""
        return self._market_hub.drop_all()

    def pause_market_hub(self) -> None:
        """Hold quotes and pings on open market hub connections until ``resume_market_hub``."""
        self._market_hub.pause()

    def resume_market_hub(self) -> None:
        self._market_hub.resume()

    def market_hub_statistics(self) -> HubStatistics:
        return self._market_hub.statistics()

    def market_hub_invocations(self) -> list[HubInvocation]:
        return self._market_hub.invocations()

    def market_hub_connections(self) -> list[HubConnectionRecord]:
        return self._market_hub.connection_log()

    def quote_subscribers(self, contract: str) -> int:
        """Open market hub connections subscribed to ``contract``'s quotes (a symbol: its front month)."""
        return self._market_hub.subscribers("quotes", self.contract(contract).id)

    def wait_for_market_hub(self, predicate: Callable[[HubServer], bool], timeout: float = 5.0) -> bool:
        return self._market_hub.wait_for(predicate, timeout)

    def wait_for_quote_subscription(self, contract: str, *, count: int = 1, timeout: float = 5.0) -> bool:
        """Wait until ``count`` open market hub connections are subscribed to ``contract``'s quotes."""
        contract_id = self.contract(contract).id
        return self._market_hub.wait_for(lambda hub: hub.subscribers("quotes", contract_id) >= count, timeout)

    # -- reads for assertions ----------------------------------------------------------

    def events(self) -> list[HubEvent]:
        """Every hub event published, oldest first (whether or not anyone was subscribed)."""
        return self.engine.events()

    def orders(self, account_id: int) -> list[dict[str, Any]]:
        return self.engine.orders(account_id)

    def open_orders(self, account_id: int) -> list[dict[str, Any]]:
        return self.engine.orders(account_id, open_only=True)

    def positions(self, account_id: int) -> list[dict[str, Any]]:
        return self.engine.positions(account_id)

    def trades(self, account_id: int) -> list[dict[str, Any]]:
        return self.engine.trades(account_id)

    def bracket_legs(self, order_id: int) -> list[dict[str, Any]]:
        return self.engine.bracket_legs(order_id)
