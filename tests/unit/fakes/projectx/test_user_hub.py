"""The user hub, read by the real pysignalr 1.3 ``SignalRClient``: events, subscriptions, token
expiry, drops and reconnects. Several tests pin what pysignalr itself does, which the adapter
must build on (see README.md, "Client behaviour these tests pin")."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator

import aiohttp
import pytest
from pysignalr.exceptions import AuthorizationError, NegotiationFailure, ServerError
from pysignalr.exceptions import ConnectionError as HubConnectionError
from pysignalr.messages import CompletionMessage

from tests.fakes.projectx import FakeProjectX, OrderStatus
from tests.unit.fakes.projectx.conftest import (
    LIVE,
    Gateway,
    HubRecorder,
    invoked,
    subscribed,
    token_id,
    user_subscriptions,
)

BUY, SELL = 0, 1


async def _finished(recorder: HubRecorder, timeout: float = 10.0) -> BaseException | None:
    """Wait for the client's ``run()`` to end; its exception (read, not raised: see
    ``test_pysignalr_errors_cannot_cross_an_async_context_manager``)."""
    assert recorder.task is not None
    await asyncio.wait({recorder.task}, timeout=timeout)
    assert recorder.task.done(), "the hub client is still running"
    return recorder.task.exception()


async def test_hub_client_negotiates_then_connects_with_the_id(fake: FakeProjectX, hub: HubRecorder) -> None:
    (connection,) = fake.hub_connections()
    statistics = fake.hub_statistics()

    assert connection.negotiated is True
    assert (statistics.negotiations, statistics.handshakes, statistics.connected) == (1, 1, 1)
    assert [i.target for i in fake.hub_invocations()] == [
        "SubscribeAccounts",
        "SubscribeOrders",
        "SubscribePositions",
        "SubscribeTrades",
    ]
    assert all(i.invocation_id is None and i.accepted for i in fake.hub_invocations())


async def test_hub_delivers_a_fill_as_order_trade_position_account_wrapped_in_action_and_data(
    fake: FakeProjectX, gateway: Gateway, hub: HubRecorder, account: int
) -> None:
    fake.set_price("ES", 5000)

    order_id = await gateway.place(account, "ES", BUY, 2)

    received = await hub.wait_for_count(5)
    assert [(target, payload["action"]) for target, payload in received] == [
        ("GatewayUserOrder", 0),
        ("GatewayUserOrder", 1),
        ("GatewayUserTrade", 0),
        ("GatewayUserPosition", 0),
        ("GatewayUserAccount", 1),
    ]
    created, filled = hub.data("GatewayUserOrder")
    assert (created["id"], created["status"], filled["status"], filled["fillVolume"]) == (order_id, 1, 2, 2)
    (trade,) = hub.data("GatewayUserTrade")
    assert (trade["orderId"], trade["price"], trade["profitAndLoss"], trade["fees"]) == (
        order_id,
        5000,
        None,
        2.8,
    )
    (position,) = hub.data("GatewayUserPosition")
    assert (position["size"], position["type"], position["averagePrice"]) == (2, 1, 5000)
    (balance,) = hub.data("GatewayUserAccount")
    assert (balance["id"], balance["balance"], balance["simulated"]) == (account, 49997.2, True)


async def test_hub_sends_partial_fills_in_order(
    fake: FakeProjectX, gateway: Gateway, hub: HubRecorder, account: int
) -> None:
    order_id = await gateway.place(account, "NQ", BUY, 3, type=1, limitPrice=21000)

    fake.fill(order_id, 1, 21000)
    fake.fill(order_id, 2, 20999.75)

    await hub.wait_for(lambda h: len(h.data("GatewayUserTrade")) == 2)
    fills = [(o["fillVolume"], o["status"]) for o in hub.data("GatewayUserOrder")]
    assert fills == [(0, OrderStatus.OPEN), (1, OrderStatus.OPEN), (3, OrderStatus.FILLED)]
    assert [p["size"] for p in hub.data("GatewayUserPosition")] == [1, 3]


async def test_hub_delivers_only_the_subscribed_accounts_orders(
    fake: FakeProjectX, gateway: Gateway, hub: HubRecorder, account: int
) -> None:
    live = fake.account_id(LIVE)
    fake.set_price("ES", 5000)

    await gateway.place(live, "ES", BUY, 1)
    await gateway.place(account, "ES", SELL, 1, type=1, limitPrice=5010)

    await hub.wait_for(lambda h: any(d["accountId"] == account for d in h.data("GatewayUserOrder")))
    assert {d["accountId"] for d in hub.data("GatewayUserOrder")} == {account}
    # SubscribeAccounts takes no account: the live account's balance change comes too.
    assert [d["id"] for d in hub.data("GatewayUserAccount")] == [live]


async def test_hub_delivers_hand_placed_orders_like_any_other(
    fake: FakeProjectX, hub: HubRecorder, account: int
) -> None:
    fake.set_price("MES", 5000)

    order_id = fake.place_hand_order(account, "MES", "buy", 1, stop_loss_ticks=-20, take_profit_ticks=40)

    await hub.wait_for(lambda h: len(h.data("GatewayUserOrder")) == 4)
    entry_created, entry_filled, stop, target = hub.data("GatewayUserOrder")
    assert entry_created["id"] == entry_filled["id"] == order_id
    assert (stop["type"], stop["stopPrice"], target["type"], target["limitPrice"]) == (4, 4995, 1, 5010)


async def test_hub_pings_the_client_at_its_interval(fake: FakeProjectX, hub: HubRecorder) -> None:
    pinged = await asyncio.to_thread(fake.wait_for_hub, lambda h: h.statistics().pings_sent >= 3)

    assert pinged and hub.task is not None and not hub.task.done()


async def test_hub_pause_holds_events_until_resume(
    fake: FakeProjectX, gateway: Gateway, hub: HubRecorder, account: int
) -> None:
    fake.pause_hub()
    fake.set_price("ES", 5000)
    await gateway.place(account, "ES", BUY, 1)
    await asyncio.sleep(0.3)  # time for events to arrive, had the hub not held them
    assert hub.received == []

    fake.resume_hub()

    assert len(await hub.wait_for_count(5)) == 5


async def test_hub_unsubscribe_stops_that_kind_of_event(
    fake: FakeProjectX, gateway: Gateway, hub: HubRecorder, account: int
) -> None:
    await hub.client.send("UnsubscribeTrades", [account])
    assert await asyncio.to_thread(fake.wait_for_hub, lambda h: h.subscribers("trades", account) == 0)
    fake.set_price("ES", 5000)

    await gateway.place(account, "ES", BUY, 1)

    await hub.wait_for(lambda h: bool(h.data("GatewayUserAccount")))
    assert "GatewayUserTrade" not in hub.targets()


async def test_hub_answers_an_invocation_with_an_id_by_a_completion(hub: HubRecorder, account: int) -> None:
    answers: list[CompletionMessage] = []

    async def keep(message: CompletionMessage) -> None:
        answers.append(message)

    await hub.client.send("SubscribeOrders", [account], on_invocation=keep)
    await hub.client.send("SubscribeFills", [account], on_invocation=keep)

    await hub.wait_for(lambda h: len(answers) == 2)
    assert (answers[0].error, answers[0].result) == (None, None)
    assert answers[1].error == "Unknown hub method 'SubscribeFills'"
    assert [m.error for m in hub.errors] == [
        "Unknown hub method 'SubscribeFills'"
    ]  # pysignalr's on_error too


async def test_hub_drop_after_a_partial_fill_loses_what_follows_until_the_client_is_back(
    fake: FakeProjectX, gateway: Gateway, hub: HubRecorder, account: int
) -> None:
    order_id = await gateway.place(account, "ES", BUY, 3, type=1, limitPrice=5000)
    fake.faults.drop_hub_after("GatewayUserTrade", when=lambda trade: trade["size"] == 1)

    fake.fill(order_id, 1, 5000)  # partial fill: its trade is delivered, then the connection drops
    await hub.wait_for(lambda h: h.closed >= 1)
    fake.fill(order_id, 2, 5000)  # published while the client is away: lost to it

    # pysignalr reconnects by itself: the negotiated id is spent (404), so it negotiates again;
    # on_open subscribes again. Nothing missed is replayed.
    await invoked(fake, 8)
    marker = fake.place_hand_order(account, "ES", "sell", 1, type="limit", limit_price=5100)
    await hub.wait_for(lambda h: any(d["id"] == marker for d in h.data("GatewayUserOrder")))
    assert hub.opened == 2
    assert [t["size"] for t in hub.data("GatewayUserTrade")] == [1]
    statistics = fake.hub_statistics()
    assert (statistics.refused, statistics.negotiations, statistics.dropped) == (1, 2, 1)
    # What the hub missed, REST has:
    (position,) = (await gateway.ok("/api/Position/searchOpen", {"accountId": account}))["positions"]
    assert position["size"] == 3


async def test_hub_keeps_an_open_connection_after_token_expiry_but_refuses_a_new_one(
    fake: FakeProjectX, gateway: Gateway, hub: HubRecorder, account: int
) -> None:
    fake.expire_tokens()
    fake.set_price("ES", 5000)
    await gateway.login()
    await gateway.place(account, "ES", BUY, 1)
    await hub.wait_for_count(5)  # the open connection still delivers

    fake.drop_hub()

    # pysignalr retries the spent id with the token in its URL (401: the token is checked first),
    # negotiates again (401) and run() ends.
    assert isinstance(await _finished(hub), AuthorizationError)
    assert fake.hub_statistics().refused == 2


async def test_hub_new_client_with_a_renewed_token_resumes_after_expiry(
    fake: FakeProjectX, gateway: Gateway, hub: HubRecorder, account: int
) -> None:
    fake.expire_tokens()
    fake.drop_hub()
    assert isinstance(await _finished(hub), AuthorizationError)

    token = await gateway.login()
    again = HubRecorder(fake.user_hub_url, token, user_subscriptions(account)).start()
    try:
        await subscribed(fake, account)
        fake.place_hand_order(account, "ES", "buy", 1, type="limit", limit_price=4990)
        await again.wait_for(lambda h: bool(h.data("GatewayUserOrder")))
    finally:
        await again.stop()
    first, second = fake.hub_connections()
    assert second.token_id == token_id(token) != first.token_id


async def test_hub_client_with_a_wrong_token_ends_with_authorization_error(fake: FakeProjectX) -> None:
    recorder = HubRecorder(fake.user_hub_url, "not-a-token", []).start()

    assert isinstance(await _finished(recorder), AuthorizationError)
    assert fake.hub_statistics().refused == 1 and fake.hub_statistics().connections == 0


async def test_hub_refused_negotiation_ends_run_with_connection_error(
    fake: FakeProjectX, gateway: Gateway
) -> None:
    fake.faults.refuse_hub(status=503)
    assert gateway.token is not None

    recorder = HubRecorder(fake.user_hub_url, gateway.token, []).start()

    failure = await _finished(recorder)
    assert isinstance(failure, HubConnectionError) and failure.status == 503


async def test_hub_close_message_with_an_error_ends_run_with_server_error(
    fake: FakeProjectX, hub: HubRecorder
) -> None:
    fake.close_hub(error="Server is shutting down.")

    failure = await _finished(hub)
    assert isinstance(failure, ServerError) and failure.message == "Server is shutting down."


async def test_pysignalr_retry_budget_is_spent_over_the_clients_life(
    fake: FakeProjectX, gateway: Gateway, account: int
) -> None:
    assert gateway.token is not None
    recorder = HubRecorder(
        fake.user_hub_url, gateway.token, user_subscriptions(account), retry_sleep=0.01, retry_count=2
    ).start()

    for round_ in range(2):
        await invoked(fake, 4 * (round_ + 1))
        assert fake.drop_hub() == 1

    # Each drop spends one retry (the spent id answers 404) and pysignalr never refills them.
    assert isinstance(await _finished(recorder), NegotiationFailure)
    assert recorder.opened == 2


async def test_hub_close_message_without_an_error_lets_pysignalr_reconnect(
    fake: FakeProjectX, hub: HubRecorder, account: int
) -> None:
    fake.close_hub(allow_reconnect=True)

    await invoked(fake, 8)
    assert hub.opened == 2 and hub.task is not None and not hub.task.done()


async def test_pysignalr_errors_cannot_cross_an_async_context_manager() -> None:
    """pysignalr's exceptions are frozen dataclasses: ``contextlib`` cannot set their
    ``__traceback__``, so one raised through an ``@asynccontextmanager`` becomes a
    ``FrozenInstanceError``. Catch them where ``run()`` is awaited."""

    @contextlib.asynccontextmanager
    async def scope() -> AsyncIterator[None]:
        yield

    with pytest.raises(dataclasses.FrozenInstanceError, match="__traceback__"):
        async with scope():
            raise AuthorizationError()


async def test_hub_unreachable_ends_run_with_aiohttps_connector_error(gateway: Gateway) -> None:
    assert gateway.token is not None
    url = gateway.fake.user_hub_url
    gateway.fake.stop()  # nothing listens on the port any more

    recorder = HubRecorder(url, gateway.token, []).start()

    assert isinstance(await _finished(recorder), aiohttp.ClientConnectorError)


async def test_pysignalr_does_not_notice_a_hub_that_falls_silent(
    fake: FakeProjectX, hub: HubRecorder
) -> None:
    fake.pause_hub()  # no events, no pings; the socket stays open and answers websocket pings

    await asyncio.sleep(1.0)  # five of the fake's ping intervals

    assert (hub.closed, hub.opened) == (0, 1) and hub.task is not None and not hub.task.done()
    fake.resume_hub()
