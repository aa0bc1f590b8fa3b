"""The market hub, read by the real pysignalr 1.3 ``SignalRClient``: quote subscriptions per
contract, ``GatewayQuote`` as ``[contractId, data]``, partial quotes, market orders filled at the
book's side, and the hub's own drops and refusals (the user hub untouched)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from pysignalr.client import SignalRClient
from pysignalr.messages import CompletionMessage

from tests.fakes.projectx import FakeProjectX
from tests.unit.fakes.projectx.conftest import Gateway, HubRecorder

ES = "CON.F.US.EP.Z25"
NQ = "CON.F.US.ENQ.Z25"
BUY, SELL = 0, 1


class QuoteRecorder:
    """A real ``SignalRClient`` on the market hub that subscribes ``contracts`` on every open and
    keeps every ``GatewayQuote`` as its arguments."""

    def __init__(self, fake: FakeProjectX, token: str, contracts: list[str], **options: Any) -> None:
        self.client = SignalRClient(f"{fake.market_hub_url}?access_token={token}", **options)
        self.contracts = contracts
        self.quotes: list[list[Any]] = []
        self.errors: list[CompletionMessage] = []
        self.opened = 0
        self.client.on("GatewayQuote", self._keep)
        self.client.on_open(self._on_open)
        self.client.on_error(self._on_error)
        self.task: asyncio.Task[None] | None = None

    async def _keep(self, arguments: list[Any]) -> None:
        self.quotes.append(arguments)

    async def _on_open(self) -> None:
        self.opened += 1
        for contract in self.contracts:
            await self.client.send("SubscribeContractQuotes", [contract])

    async def _on_error(self, message: CompletionMessage) -> None:
        self.errors.append(message)

    def start(self) -> QuoteRecorder:
        self.task = asyncio.create_task(self.client.run())
        return self

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.task
            await asyncio.sleep(0.05)  # the cancelled websocket's transport finishes closing

    async def wait_for(self, predicate: Callable[[QuoteRecorder], bool], timeout: float = 5.0) -> None:
        async with asyncio.timeout(timeout):
            while not predicate(self):
                await asyncio.sleep(0.01)


async def _subscribed(fake: FakeProjectX, contract: str, count: int = 1) -> None:
    assert await asyncio.to_thread(fake.wait_for_quote_subscription, contract, count=count)


@pytest.fixture
async def quotes(fake: FakeProjectX, gateway: Gateway) -> AsyncIterator[QuoteRecorder]:
    assert gateway.token is not None
    recorder = QuoteRecorder(fake, gateway.token, [ES]).start()
    await _subscribed(fake, ES)
    yield recorder
    await recorder.stop()


async def test_market_hub_sends_a_subscribed_contracts_quote_as_contract_id_and_data(
    fake: FakeProjectX, quotes: QuoteRecorder
) -> None:
    fake.set_quote("ES", last=5000.25, bid=5000, ask=5000.25, volume=12_345)
    fake.set_quote("NQ", last=21000)  # not subscribed

    await quotes.wait_for(lambda q: len(q.quotes) == 1)
    await asyncio.sleep(0.1)
    [(contract_id, data)] = quotes.quotes
    assert contract_id == ES
    assert {k: data[k] for k in ("symbol", "symbolName", "lastPrice", "bestBid", "bestAsk", "volume")} == {
        "symbol": "F.US.EP",
        "symbolName": "/ES",
        "lastPrice": 5000.25,
        "bestBid": 5000.0,
        "bestAsk": 5000.25,
        "volume": 12_345,
    }
    assert {"change", "changePercent", "open", "high", "low", "lastUpdated", "timestamp"} <= set(data)
    assert [i.target for i in fake.market_hub_invocations()] == ["SubscribeContractQuotes"]
    assert fake.hub_statistics().connections == 0  # the user hub saw none of it


async def test_market_hub_partial_quote_carries_only_what_changed(
    fake: FakeProjectX, quotes: QuoteRecorder
) -> None:
    fake.set_quote("ES", last=5000, bid=4999.75, ask=5000)

    fake.set_quote("ES", bid=5000, ask=5000.25, partial=True)

    await quotes.wait_for(lambda q: len(q.quotes) == 2)
    partial = quotes.quotes[1][1]
    assert set(partial) == {"symbol", "bestBid", "bestAsk", "timestamp"}
    assert fake.quotes.get(ES) is not None and fake.quotes.get(ES).last == 5000  # type: ignore[union-attr]


async def test_set_price_is_a_trade_quote_without_a_book(fake: FakeProjectX, quotes: QuoteRecorder) -> None:
    fake.set_price("ES", 4990.5)

    await quotes.wait_for(lambda q: len(q.quotes) == 1)
    data = quotes.quotes[0][1]
    assert data["lastPrice"] == 4990.5 and "bestBid" not in data and "bestAsk" not in data


async def test_market_hub_unsubscribe_stops_the_contracts_quotes(
    fake: FakeProjectX, quotes: QuoteRecorder
) -> None:
    await quotes.client.send("UnsubscribeContractQuotes", [ES])
    assert await asyncio.to_thread(fake.wait_for_market_hub, lambda hub: hub.subscribers("quotes", ES) == 0)

    fake.set_price("ES", 5000)

    await asyncio.sleep(0.3)
    assert quotes.quotes == []


async def test_market_hub_refuses_a_contract_argument_that_is_not_a_string(
    fake: FakeProjectX, quotes: QuoteRecorder
) -> None:
    await quotes.client.send("SubscribeContractQuotes", [42], on_invocation=_ignore)

    await quotes.wait_for(lambda q: bool(q.errors))
    assert "SubscribeContractQuotes" in str(quotes.errors[0].error)
    assert fake.market_hub_invocations()[-1].accepted is False


async def test_market_order_fills_at_the_books_side_when_known(
    fake: FakeProjectX, gateway: Gateway, account: int
) -> None:
    fake.set_quote("ES", last=5000, bid=4999.75, ask=5000.25)

    await gateway.place(account, "ES", BUY, 1)
    await gateway.place(account, "ES", SELL, 1)
    fake.set_price("ES", 5001)  # a trade without a book: the next market order takes the price
    await gateway.place(account, "ES", BUY, 1)

    assert [t["price"] for t in fake.trades(account)] == [5000.25, 4999.75, 5001]


async def test_drop_market_hub_ends_its_connections_and_the_client_subscribes_again(
    fake: FakeProjectX, gateway: Gateway, quotes: QuoteRecorder, hub: HubRecorder
) -> None:
    dropped = fake.drop_market_hub()

    await quotes.wait_for(lambda q: q.opened == 2)
    await _subscribed(fake, ES)
    fake.set_price("ES", 5000)
    await quotes.wait_for(lambda q: len(q.quotes) == 1)
    assert dropped == 1 and fake.market_hub_statistics().dropped == 1
    assert hub.task is not None and not hub.task.done() and fake.hub_statistics().dropped == 0


async def test_market_faults_refuse_only_the_market_hub(fake: FakeProjectX, gateway: Gateway) -> None:
    fake.market_faults.refuse_hub(count=1, status=503)
    query = f"?access_token={gateway.token}"

    async with gateway.session.post(f"/hubs/user/negotiate{query}") as user:
        user_status = user.status
    async with gateway.session.post(f"/hubs/market/negotiate{query}") as market:
        market_status = market.status
    async with gateway.session.post(f"/hubs/market/negotiate{query}") as again:
        again_status = again.status

    assert (user_status, market_status, again_status) == (200, 503, 200)
    assert fake.market_hub_statistics().refused == 1 and fake.hub_statistics().refused == 0
    assert fake.faults.statistics().hub_refusals_fired == 0


async def _ignore(message: Any) -> None:
    return None
