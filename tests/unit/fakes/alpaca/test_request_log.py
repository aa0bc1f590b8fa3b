"""What the fake records of each request, and hand-placed orders that bypass the client."""

from __future__ import annotations

from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderSide, QueryOrderStatus, TimeInForce
from alpaca.trading.requests import GetOrdersRequest, LimitOrderRequest

from tests.fakes.alpaca import FakeAlpaca, RecordedRequest


def test_request_log_keeps_method_path_body_key_id_and_status_never_the_secret(
    fake: FakeAlpaca, client: TradingClient
) -> None:
    client.submit_order(
        LimitOrderRequest(
            symbol="AAPL",
            qty=2,
            side=OrderSide.BUY,
            time_in_force=TimeInForce.GTC,
            limit_price=101.1,
            client_order_id="log-1",
        )
    )

    (posted,) = fake.requests.matching("POST", "/v2/orders")

    assert posted == RecordedRequest(
        method="POST",
        path="/v2/orders",
        query={},
        body={
            "symbol": "AAPL",
            "qty": 2.0,
            "side": "buy",
            "type": "limit",
            "time_in_force": "gtc",
            "client_order_id": "log-1",
            "limit_price": 101.1,
        },
        key_id=fake.key_id,
        status=200,
    )
    assert fake.secret_key not in repr(fake.requests.all())


def test_request_log_keeps_query_parameters_of_reads(fake: FakeAlpaca, client: TradingClient) -> None:
    client.get_orders(GetOrdersRequest(status=QueryOrderStatus.ALL, symbols=["AAPL", "MSFT"], limit=20))

    (read,) = fake.requests.matching("GET", "/v2/orders")

    assert read.query == {"status": "all", "limit": "20", "symbols": "AAPL,MSFT"}


def test_hand_placed_order_is_in_rest_reads_but_not_in_the_request_log(
    fake: FakeAlpaca, client: TradingClient
) -> None:
    fake.set_price("AAPL", 100)

    placed = fake.place_hand_order("AAPL", "buy", 3)

    assert fake.requests.all() == []
    assert client.get_order_by_id(placed["id"]).filled_qty == "3"
    assert client.get_open_position("AAPL").qty == "3"
    assert [e["event"] for e in fake.events()] == ["new", "fill"]


def test_hand_cancel_of_a_client_order_is_seen_by_the_client(fake: FakeAlpaca, client: TradingClient) -> None:
    order = client.submit_order(
        LimitOrderRequest(
            symbol="AAPL", qty=2, side=OrderSide.BUY, time_in_force=TimeInForce.GTC, limit_price=90
        )
    )

    fake.cancel_by_hand(str(order.id))

    assert client.get_order_by_id(order.id).status.value == "canceled"
    assert [r.method for r in fake.requests.all()] == ["POST", "GET"]
