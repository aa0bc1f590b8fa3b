"""``FakeAlpaca``: a local Alpaca paper-trading server for tests, and the handles to drive it.

    with FakeAlpaca() as fake:
        client = TradingClient(fake.key_id, fake.secret_key, paper=True, url_override=fake.base_url)
        stream = TradingStream(fake.key_id, fake.secret_key, paper=True, url_override=fake.stream_url)
        fake.set_price("AAPL", 100)          # market orders fill, limits and stops are checked
        fake.place_hand_order("AAPL", "buy", 5)  # as if from Alpaca's web UI
        fake.faults.rate_limit(3)            # the next 3 REST calls answer 429
        fake.requests.matching("POST", "/v2/orders")

The parts, each in its own module: ``RestApi`` (endpoints), ``StreamHub`` (websocket),
``MatchingEngine`` (orders, fills, events) over an ``AccountBook`` (cash, positions),
``FaultPlan`` (planned failures), ``RequestLog`` (what clients sent), ``ServerThread``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from types import TracebackType
from typing import Any
from uuid import uuid4

from starlette.applications import Starlette
from starlette.routing import WebSocketRoute

from tests.fakes.alpaca.assets import AssetDirectory
from tests.fakes.alpaca.book import AccountBook, AccountFigures
from tests.fakes.alpaca.engine import MatchingEngine
from tests.fakes.alpaca.faults import FaultPlan
from tests.fakes.alpaca.recorder import RequestLog
from tests.fakes.alpaca.rest import AccountIdentity, RestApi
from tests.fakes.alpaca.server_thread import ServerThread
from tests.fakes.alpaca.stream import Credentials, StreamHub, StreamStatistics

__all__ = ["FakeAlpaca", "Number"]

Number = Decimal | int | float | str


def _decimal(value: Number) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _utc_now() -> datetime:
    return datetime.now(UTC)


class FakeAlpaca:
    """One paper account behind a real HTTP + websocket server on 127.0.0.1."""

    def __init__(
        self,
        *,
        key_id: str = "PKFAKE0000000000TEST",
        secret_key: str = "fake-secret-key-for-tests-only",
        cash: Number = Decimal(100_000),
        multiplier: Number = Decimal(2),
        now: Callable[[], datetime] = _utc_now,
        market_open: bool = True,
    ) -> None:
        self.key_id = key_id
        self.secret_key = secret_key
        self.market_open = market_open
        self.faults = FaultPlan()
        self.requests = RequestLog()
        credentials = Credentials(key_id, secret_key)
        assets = AssetDirectory()
        self._hub = StreamHub(credentials=credentials, faults=self.faults)
        self.engine = MatchingEngine(
            book=AccountBook(cash=_decimal(cash), multiplier=_decimal(multiplier), asset_id=assets.id_for),
            assets=assets,
            faults=self.faults,
            publish=self._hub.publish,
            now=now,
        )
        rest = RestApi(
            engine=self.engine,
            credentials=credentials,
            faults=self.faults,
            log=self.requests,
            identity=AccountIdentity(str(uuid4()), "PA3FAKE0001", now()),
            now=now,
            market_open=lambda: self.market_open,
        )
        app = Starlette(routes=[*rest.routes(), WebSocketRoute("/stream", self._hub.endpoint)])
        self._server = ServerThread(app, on_loop=self._hub.bind)

    def __repr__(self) -> str:
        return f"FakeAlpaca({self._server!r}, {self.engine!r})"

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> FakeAlpaca:
        self._server.start()
        return self

    def stop(self) -> None:
        self._hub.drop_all()
        self._server.stop()

    def __enter__(self) -> FakeAlpaca:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """For ``TradingClient(url_override=...)`` (the SDK appends ``/v2``)."""
        return f"http://127.0.0.1:{self._server.port}"

    @property
    def stream_url(self) -> str:
        """For ``TradingStream(url_override=...)``."""
        return f"ws://127.0.0.1:{self._server.port}/stream"

    # -- the market --------------------------------------------------------------------

    def set_price(self, symbol: str, price: Number) -> None:
        """The symbol now trades at ``price``: working orders it reaches fill, marks move."""
        self.engine.set_price(symbol, _decimal(price))

    def fill(self, order_id: str, qty: Number, price: Number) -> dict[str, Any]:
        """Fill part or all of a working order now (``partial_fill`` / ``fill`` on the stream)."""
        return self.engine.fill(order_id, _decimal(qty), _decimal(price))

    def expire_day_orders(self) -> None:
        self.engine.expire_day_orders()

    def roll_day(self) -> None:
        """Start a new session: ``last_equity`` and each position's ``lastday_price`` reset to now."""
        self.engine.roll_day()

    # -- orders placed outside the client under test -----------------------------------

    def place_hand_order(
        self,
        symbol: str,
        side: str,
        qty: Number,
        *,
        type: str = "market",
        time_in_force: str = "day",
        limit_price: Number | None = None,
        stop_price: Number | None = None,
        order_class: str = "simple",
        take_profit: Number | None = None,
        stop_loss: Number | None = None,
    ) -> dict[str, Any]:
        """An order as if placed in Alpaca's web UI: not a REST request of the client under
        test, but in REST reads and on the stream like any other. Returns the order as accepted."""
        body: dict[str, Any] = {
            "symbol": symbol,
            "side": side,
            "qty": str(qty),
            "type": type,
            "time_in_force": time_in_force,
            "order_class": order_class,
        }
        for name, value in (("limit_price", limit_price), ("stop_price", stop_price)):
            if value is not None:
                body[name] = str(value)
        if take_profit is not None:
            body["take_profit"] = {"limit_price": str(take_profit)}
        if stop_loss is not None:
            body["stop_loss"] = {"stop_price": str(stop_loss)}
        return self.engine.submit(body, source="hand")

    def cancel_by_hand(self, order_id: str) -> None:
        self.engine.cancel(order_id)

    # -- the stream --------------------------------------------------------------------

    def drop_stream(self) -> int:
        """Close every stream connection now; returns how many were closed."""
        return self._hub.drop_all()

    def pause_stream(self) -> None:
        """Hold trade updates on open connections (silent, not closed) until ``resume_stream``."""
        self._hub.pause()

    def resume_stream(self) -> None:
        self._hub.resume()

    def wait_for_listeners(self, count: int = 1, *, timeout: float = 5.0) -> bool:
        return self._hub.wait_for_listeners(count, timeout=timeout)

    def wait_for_sessions(self, total: int, *, timeout: float = 5.0) -> bool:
        """Wait until ``total`` trade_updates listen requests were acknowledged since start."""
        return self._hub.wait_for_sessions(total, timeout=timeout)

    def stream_statistics(self) -> StreamStatistics:
        return self._hub.statistics()

    # -- reads for assertions ----------------------------------------------------------

    def events(self) -> list[dict[str, Any]]:
        """Every trade update published, oldest first, as the ``data`` of the stream message."""
        return self.engine.events()

    def orders(self, status: str = "all") -> list[dict[str, Any]]:
        return self.engine.orders(status=status, direction="asc", limit=500)

    def positions(self) -> list[dict[str, Any]]:
        return self.engine.positions()

    def figures(self) -> AccountFigures:
        return self.engine.figures()
