"""The trade_updates websocket, read by the real alpaca-py TradingStream and by a raw client."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderClass, OrderSide, TimeInForce
from alpaca.trading.requests import (
    LimitOrderRequest,
    MarketOrderRequest,
    ReplaceOrderRequest,
    StopLossRequest,
    TakeProfitRequest,
)
from websockets.sync.client import ClientConnection, connect

from tests.fakes.alpaca import FakeAlpaca
from tests.unit.fakes.alpaca.conftest import StreamRecorder


def limit(
    qty: float, price: float, client_order_id: str, side: OrderSide = OrderSide.BUY
) -> LimitOrderRequest:
    return LimitOrderRequest(
        symbol="AAPL",
        qty=qty,
        side=side,
        time_in_force=TimeInForce.GTC,
        limit_price=price,
        client_order_id=client_order_id,
    )


@pytest.fixture
def raw(fake: FakeAlpaca) -> Iterator[ClientConnection]:
    """A plain websocket client that has done the handshake itself."""
    with connect(fake.stream_url) as websocket:
        websocket.send(
            json.dumps(
                {"action": "authenticate", "data": {"key_id": fake.key_id, "secret_key": fake.secret_key}}
            )
        )
        websocket.recv(timeout=5)
        websocket.send(json.dumps({"action": "listen", "data": {"streams": ["trade_updates"]}}))
        websocket.recv(timeout=5)
        yield websocket


def test_stream_delivers_new_then_fill_for_a_market_order(
    fake: FakeAlpaca, client: TradingClient, stream: StreamRecorder
) -> None:
    fake.set_price("AAPL", 100)

    client.submit_order(
        MarketOrderRequest(
            symbol="AAPL", qty=4, side=OrderSide.BUY, time_in_force=TimeInForce.DAY, client_order_id="m"
        )
    )

    new, fill = stream.wait_for_count(2)
    assert (new.event, fill.event) == ("new", "fill")  # plain str: see StreamRecorder.names
    assert (new.order.status.value, fill.order.status.value) == ("new", "filled")
    assert (fill.price, fill.qty, fill.position_qty) == (100.0, 4.0, 4.0)
    assert fill.execution_id is not None and new.execution_id is None


def test_stream_delivers_partial_fills_in_order_with_the_running_position(
    fake: FakeAlpaca, client: TradingClient, stream: StreamRecorder
) -> None:
    order = client.submit_order(limit(10, 90, "p"))

    fake.fill(str(order.id), 3, 90)
    fake.fill(str(order.id), 3, 89.5)
    fake.fill(str(order.id), 4, 89)

    updates = stream.wait_for_count(4)
    assert stream.names() == ["new", "partial_fill", "partial_fill", "fill"]
    assert [(u.qty, u.price, u.position_qty) for u in updates[1:]] == [(3, 90, 3), (3, 89.5, 6), (4, 89, 10)]
    assert [u.order.filled_qty for u in updates[1:]] == ["3", "6", "10"]
    assert updates[-1].order.filled_avg_price == "89.45"


def test_stream_reports_a_bracket_whose_take_profit_fills(
    fake: FakeAlpaca, client: TradingClient, stream: StreamRecorder
) -> None:
    fake.set_price("AAPL", 100)
    entry = client.submit_order(
        LimitOrderRequest(
            symbol="AAPL",
            qty=5,
            side=OrderSide.BUY,
            time_in_force=TimeInForce.GTC,
            limit_price=99,
            order_class=OrderClass.BRACKET,
            take_profit=TakeProfitRequest(limit_price=105),
            stop_loss=StopLossRequest(stop_price=95),
            client_order_id="entry",
        )
    )
    take_profit, stop_loss = (leg.client_order_id for leg in entry.legs)

    fake.set_price("AAPL", 99)
    fake.set_price("AAPL", 105)

    stream.wait_for_count(6)
    assert stream.events() == [
        ("new", "entry"),
        ("fill", "entry"),
        ("new", take_profit),
        ("new", stop_loss),
        ("fill", take_profit),
        ("canceled", stop_loss),
    ]
    assert stream.updates[0].order.legs is not None and len(stream.updates[0].order.legs) == 2
    assert stream.updates[-2].position_qty == 0


def test_stream_reports_a_replace_as_replaced_old_then_new(
    fake: FakeAlpaca, client: TradingClient, stream: StreamRecorder
) -> None:
    old = client.submit_order(limit(2, 90, "old"))

    client.replace_order_by_id(old.id, ReplaceOrderRequest(limit_price=91, client_order_id="new"))

    stream.wait_for_count(3)
    assert stream.events() == [("new", "old"), ("replaced", "old"), ("new", "new")]
    assert stream.updates[1].order.replaced_by == stream.updates[2].order.id


def test_stream_shows_hand_placed_orders_like_any_other(fake: FakeAlpaca, stream: StreamRecorder) -> None:
    fake.set_price("MSFT", 400)

    placed = fake.place_hand_order("MSFT", "sell", 2)

    updates = stream.wait_for_count(2)
    assert [(u.event, str(u.order.id)) for u in updates] == [
        ("new", placed["id"]),
        ("fill", placed["id"]),
    ]
    assert updates[-1].position_qty == -2


def test_stream_reports_a_stream_side_rejection(
    fake: FakeAlpaca, client: TradingClient, stream: StreamRecorder
) -> None:
    fake.faults.reject_orders("symbol is halted")

    client.submit_order(limit(1, 90, "r"))

    (rejected,) = stream.wait_for_count(1)
    assert (rejected.event, rejected.order.status.value) == ("rejected", "rejected")


def test_sdk_reconnects_after_a_drop_mid_fill_and_missed_updates_are_not_replayed(
    fake: FakeAlpaca, client: TradingClient, stream: StreamRecorder
) -> None:
    order = client.submit_order(limit(10, 90, "d"))
    fake.faults.drop_stream_after("partial_fill")

    fake.fill(str(order.id), 4, 90)  # delivered, then the connection closes
    fake.fill(str(order.id), 6, 90)  # published while the SDK is away: lost to it
    assert fake.wait_for_sessions(2), "the SDK did not reconnect and listen again"
    fake.set_price("AAPL", 100)
    client.submit_order(limit(1, 100, "after", side=OrderSide.SELL))

    stream.wait_for(lambda updates: len(updates) >= 4)
    assert stream.events() == [("new", "d"), ("partial_fill", "d"), ("new", "after"), ("fill", "after")]
    assert [e["event"] for e in fake.events()][:3] == ["new", "partial_fill", "fill"]
    statistics = fake.stream_statistics()
    assert (statistics.dropped, statistics.authorized, statistics.sessions) == (1, 2, 2)


def test_sdk_retries_a_refused_authentication_until_it_is_authorized(
    fake: FakeAlpaca, client: TradingClient
) -> None:
    fake.faults.refuse_stream_auth(1)
    recorder = StreamRecorder(fake).start()
    try:
        assert fake.wait_for_listeners(1, timeout=10)
        fake.set_price("AAPL", 100)
        fake.place_hand_order("AAPL", "buy", 1)
        recorder.wait_for_count(2)
    finally:
        recorder.stop()

    statistics = fake.stream_statistics()
    assert (statistics.refused, statistics.authorized) == (1, 1)


def test_wrong_keys_are_answered_unauthorized_and_the_connection_closes(fake: FakeAlpaca) -> None:
    with connect(fake.stream_url) as websocket:
        websocket.send(
            json.dumps({"action": "authenticate", "data": {"key_id": fake.key_id, "secret_key": "x"}})
        )
        answer = websocket.recv(timeout=5)
        with pytest.raises(Exception, match="1008"):
            websocket.recv(timeout=5)

    assert json.loads(answer) == {
        "stream": "authorization",
        "data": {"status": "unauthorized", "action": "authenticate"},
    }


def test_server_messages_are_json_in_binary_frames(fake: FakeAlpaca) -> None:
    with connect(fake.stream_url) as websocket:
        websocket.send(
            json.dumps(
                {"action": "authenticate", "data": {"key_id": fake.key_id, "secret_key": fake.secret_key}}
            )
        )
        authorization = websocket.recv(timeout=5)
        websocket.send(json.dumps({"action": "listen", "data": {"streams": ["trade_updates", "nope"]}}))
        listening = websocket.recv(timeout=5)
        fake.place_hand_order("AAPL", "buy", 1)
        update = websocket.recv(timeout=5)

    assert all(isinstance(frame, bytes) for frame in (authorization, listening, update))
    assert json.loads(authorization)["data"]["status"] == "authorized"
    assert json.loads(listening) == {"stream": "listening", "data": {"streams": ["trade_updates"]}}
    assert json.loads(update)["stream"] == "trade_updates"
    assert json.loads(update)["data"]["event"] == "new"


def test_every_listener_gets_every_update_and_a_paused_stream_delivers_in_order_on_resume(
    fake: FakeAlpaca, raw: ClientConnection, stream: StreamRecorder
) -> None:
    fake.set_price("AAPL", 100)
    fake.pause_stream()
    fake.place_hand_order("AAPL", "buy", 1)
    fake.place_hand_order("AAPL", "buy", 2)

    with pytest.raises(TimeoutError):
        raw.recv(timeout=0.3)
    fake.resume_stream()

    raw_events = [json.loads(raw.recv(timeout=5))["data"] for _ in range(4)]
    assert [(e["event"], e["order"]["qty"]) for e in raw_events] == [
        ("new", "1"),
        ("fill", "1"),
        ("new", "2"),
        ("fill", "2"),
    ]
    stream.wait_for_count(4)
    assert stream.names() == ["new", "fill", "new", "fill"]
