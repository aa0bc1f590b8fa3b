"""Orders through the real alpaca-py TradingClient against the fake: every type, brackets,
idempotent client order ids, reads, replace and cancel."""

from __future__ import annotations

import pytest
from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderClass, OrderSide, OrderStatus, QueryOrderStatus, TimeInForce
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

from tests.fakes.alpaca import FakeAlpaca


def market(side: OrderSide = OrderSide.BUY, qty: float = 10, **extra: object) -> MarketOrderRequest:
    return MarketOrderRequest(symbol="AAPL", qty=qty, side=side, time_in_force=TimeInForce.DAY, **extra)


def bracket(limit: float = 99, tp: float = 110, sl: float = 95) -> LimitOrderRequest:
    return LimitOrderRequest(
        symbol="AAPL",
        qty=10,
        side=OrderSide.BUY,
        time_in_force=TimeInForce.GTC,
        limit_price=limit,
        order_class=OrderClass.BRACKET,
        take_profit=TakeProfitRequest(limit_price=tp),
        stop_loss=StopLossRequest(stop_price=sl),
    )


def test_market_order_with_a_price_answers_accepted_then_is_filled(
    fake: FakeAlpaca, client: TradingClient
) -> None:
    fake.set_price("AAPL", 100)

    order = client.submit_order(market(client_order_id="m-1"))

    assert order.status == OrderStatus.ACCEPTED
    assert order.client_order_id == "m-1"
    filled = client.get_order_by_id(order.id)
    assert filled.status == OrderStatus.FILLED
    assert (filled.filled_qty, filled.filled_avg_price) == ("10", "100")


def test_market_order_without_a_price_waits_then_fills_at_the_first_price(
    fake: FakeAlpaca, client: TradingClient
) -> None:
    order = client.submit_order(market())
    assert client.get_order_by_id(order.id).status == OrderStatus.NEW

    fake.set_price("AAPL", 101.25)

    assert client.get_order_by_id(order.id).filled_avg_price == "101.25"


def test_limit_buy_fills_when_the_price_reaches_the_limit_at_equality(
    fake: FakeAlpaca, client: TradingClient
) -> None:
    fake.set_price("AAPL", 100)
    order = client.submit_order(
        LimitOrderRequest(
            symbol="AAPL", qty=5, side=OrderSide.BUY, time_in_force=TimeInForce.GTC, limit_price=99.5
        )
    )
    fake.set_price("AAPL", 99.51)
    assert client.get_order_by_id(order.id).status == OrderStatus.NEW

    fake.set_price("AAPL", 99.5)

    filled = client.get_order_by_id(order.id)
    assert (filled.status, filled.filled_avg_price, filled.limit_price) == (
        OrderStatus.FILLED,
        "99.5",
        "99.5",
    )


def test_stop_sell_triggers_at_the_stop_and_fills_at_the_market(
    fake: FakeAlpaca, client: TradingClient
) -> None:
    fake.set_price("AAPL", 100)
    client.submit_order(market(qty=5))
    stop = client.submit_order(
        StopOrderRequest(
            symbol="AAPL", qty=5, side=OrderSide.SELL, time_in_force=TimeInForce.GTC, stop_price=95
        )
    )
    fake.set_price("AAPL", 95.01)
    assert client.get_order_by_id(stop.id).status == OrderStatus.NEW

    fake.set_price("AAPL", 94)

    assert client.get_order_by_id(stop.id).filled_avg_price == "94"


def test_stop_limit_buy_triggers_then_waits_for_its_limit(fake: FakeAlpaca, client: TradingClient) -> None:
    fake.set_price("AAPL", 100)
    order = client.submit_order(
        StopLimitOrderRequest(
            symbol="AAPL",
            qty=3,
            side=OrderSide.BUY,
            time_in_force=TimeInForce.DAY,
            stop_price=105,
            limit_price=104,
        )
    )

    fake.set_price("AAPL", 106)  # triggered, but above the limit
    assert client.get_order_by_id(order.id).status == OrderStatus.NEW
    fake.set_price("AAPL", 104)

    assert client.get_order_by_id(order.id).filled_avg_price == "104"


def test_bracket_legs_are_held_until_the_entry_fills_then_the_take_profit_cancels_the_stop(
    fake: FakeAlpaca, client: TradingClient
) -> None:
    fake.set_price("AAPL", 100)

    entry = client.submit_order(bracket())

    assert entry.order_class == OrderClass.BRACKET
    assert [(leg.type.value, leg.side.value, leg.status.value) for leg in entry.legs] == [
        ("limit", "sell", "held"),
        ("stop", "sell", "held"),
    ]
    take_profit, stop_loss = (leg.id for leg in entry.legs)
    fake.set_price("AAPL", 99)
    assert client.get_order_by_id(take_profit).status == OrderStatus.NEW
    fake.set_price("AAPL", 110)
    assert client.get_order_by_id(take_profit).filled_avg_price == "110"
    assert client.get_order_by_id(stop_loss).status == OrderStatus.CANCELED
    assert client.get_all_positions() == []


def test_bracket_stop_loss_fill_cancels_the_take_profit(fake: FakeAlpaca, client: TradingClient) -> None:
    fake.set_price("AAPL", 100)
    entry = client.submit_order(bracket(limit=100))
    take_profit, stop_loss = (leg.id for leg in entry.legs)

    fake.set_price("AAPL", 94.5)

    assert client.get_order_by_id(stop_loss).filled_avg_price == "94.5"
    assert client.get_order_by_id(take_profit).status == OrderStatus.CANCELED


def test_bracket_take_profit_not_above_the_base_price_is_refused_422(
    fake: FakeAlpaca, client: TradingClient
) -> None:
    fake.set_price("AAPL", 100)

    with pytest.raises(APIError, match=r"take_profit.limit_price must be >= base_price \+ 0.01") as raised:
        client.submit_order(bracket(limit=99, tp=99))

    assert (raised.value.status_code, raised.value.code) == (422, 42210000)


def test_oco_exit_pair_works_both_legs_and_the_first_fill_cancels_the_other(
    fake: FakeAlpaca, client: TradingClient
) -> None:
    fake.set_price("AAPL", 100)
    client.submit_order(market(qty=10))

    oco = client.submit_order(
        LimitOrderRequest(
            symbol="AAPL",
            qty=10,
            side=OrderSide.SELL,
            time_in_force=TimeInForce.GTC,
            order_class=OrderClass.OCO,
            take_profit=TakeProfitRequest(limit_price=105),
            stop_loss=StopLossRequest(stop_price=97),
        )
    )

    assert (oco.type.value, oco.limit_price, oco.legs[0].type.value, oco.legs[0].stop_price) == (
        "limit",
        "105",
        "stop",
        "97",
    )
    fake.set_price("AAPL", 96)
    assert client.get_order_by_id(oco.legs[0].id).status == OrderStatus.FILLED
    assert client.get_order_by_id(oco.id).status == OrderStatus.CANCELED


def test_oto_entry_activates_its_single_leg_after_the_fill(fake: FakeAlpaca, client: TradingClient) -> None:
    fake.set_price("AAPL", 100)

    entry = client.submit_order(market(order_class=OrderClass.OTO, stop_loss=StopLossRequest(stop_price=90)))

    leg = client.get_order_by_id(entry.legs[0].id)
    assert (leg.type.value, leg.side.value, leg.status) == ("stop", "sell", OrderStatus.NEW)


def test_duplicate_client_order_id_is_refused_with_alpacas_422(
    fake: FakeAlpaca, client: TradingClient
) -> None:
    client.submit_order(market(client_order_id="desk-1"))

    with pytest.raises(APIError, match="client_order_id must be unique") as raised:
        client.submit_order(market(client_order_id="desk-1"))

    assert (raised.value.status_code, raised.value.code) == (422, 40010001)
    assert len(fake.orders()) == 1


def test_client_order_id_stays_taken_after_the_order_is_canceled(client: TradingClient) -> None:
    order = client.submit_order(market(client_order_id="desk-2"))
    client.cancel_order_by_id(order.id)

    with pytest.raises(APIError, match="client_order_id must be unique"):
        client.submit_order(market(client_order_id="desk-2"))


def test_get_order_by_client_id_returns_the_same_order(client: TradingClient) -> None:
    order = client.submit_order(market(client_order_id="desk-3"))

    assert client.get_order_by_client_id("desk-3").id == order.id


def test_get_unknown_order_is_404_order_not_found(client: TradingClient) -> None:
    with pytest.raises(APIError, match="order not found") as raised:
        client.get_order_by_id("00000000-0000-4000-8000-000000000000")

    assert (raised.value.status_code, raised.value.code) == (404, 40410000)


def test_replace_answers_a_new_order_and_the_old_one_ends_replaced(
    fake: FakeAlpaca, client: TradingClient
) -> None:
    fake.set_price("AAPL", 100)
    old = client.submit_order(
        LimitOrderRequest(
            symbol="AAPL", qty=5, side=OrderSide.BUY, time_in_force=TimeInForce.GTC, limit_price=90
        )
    )

    new = client.replace_order_by_id(
        old.id, ReplaceOrderRequest(qty=7, limit_price=91, client_order_id="r-2")
    )

    assert new.id != old.id
    assert (new.replaces, new.qty, new.limit_price, new.client_order_id) == (old.id, "7", "91", "r-2")
    replaced = client.get_order_by_id(old.id)
    assert (replaced.status, replaced.replaced_by) == (OrderStatus.REPLACED, new.id)
    fake.set_price("AAPL", 91)
    assert client.get_order_by_id(new.id).status == OrderStatus.FILLED


def test_replace_a_filled_order_is_refused_422(fake: FakeAlpaca, client: TradingClient) -> None:
    fake.set_price("AAPL", 100)
    order = client.submit_order(market())

    with pytest.raises(APIError, match="order is already in") as raised:
        client.replace_order_by_id(order.id, ReplaceOrderRequest(qty=3))

    assert raised.value.message == 'order is already in "filled" state'


def test_cancel_then_cancel_again_is_refused_422_already_canceled(client: TradingClient) -> None:
    order = client.submit_order(market())

    client.cancel_order_by_id(order.id)

    assert client.get_order_by_id(order.id).status == OrderStatus.CANCELED
    with pytest.raises(APIError, match="order is already in") as raised:
        client.cancel_order_by_id(order.id)
    assert (raised.value.status_code, raised.value.code) == (422, 42210000)
    assert raised.value.message == 'order is already in "canceled" state'


def test_cancel_all_cancels_every_open_order_including_held_bracket_legs(
    fake: FakeAlpaca, client: TradingClient
) -> None:
    fake.set_price("AAPL", 100)
    entry = client.submit_order(bracket(limit=90, sl=85))
    client.submit_order(market(side=OrderSide.SELL, qty=1, client_order_id="x"))  # fills: a short

    answers = client.cancel_orders()

    assert {a.id for a in answers} == {entry.id, *(leg.id for leg in entry.legs)}
    assert {a.status for a in answers} == {200}
    assert client.get_orders(GetOrdersRequest(status=QueryOrderStatus.OPEN)) == []


def test_get_orders_filters_by_status_and_nests_legs_on_request(
    fake: FakeAlpaca, client: TradingClient
) -> None:
    fake.set_price("AAPL", 100)
    entry = client.submit_order(bracket(limit=90, sl=85))
    filled = client.submit_order(market(qty=1))

    open_flat = client.get_orders(GetOrdersRequest(status=QueryOrderStatus.OPEN))
    open_nested = client.get_orders(GetOrdersRequest(status=QueryOrderStatus.OPEN, nested=True))
    closed = client.get_orders(GetOrdersRequest(status=QueryOrderStatus.CLOSED))

    assert len(open_flat) == 3 and all(o.legs is None for o in open_flat)
    assert [o.id for o in open_nested] == [entry.id] and len(open_nested[0].legs) == 2
    assert [o.id for o in closed] == [filled.id]
    nested = client.get_order_by_id(entry.id, GetOrderByIdRequest(nested=True))
    assert len(nested.legs) == 2


def test_buying_more_than_the_buying_power_is_refused_403(fake: FakeAlpaca, client: TradingClient) -> None:
    fake.set_price("AAPL", 100)

    with pytest.raises(APIError, match="insufficient buying power") as raised:
        client.submit_order(market(qty=5000))

    assert (raised.value.status_code, raised.value.code) == (403, 40310000)


def test_ioc_limit_that_cannot_fill_at_once_is_canceled(fake: FakeAlpaca, client: TradingClient) -> None:
    fake.set_price("AAPL", 100)

    order = client.submit_order(
        LimitOrderRequest(
            symbol="AAPL", qty=5, side=OrderSide.BUY, time_in_force=TimeInForce.IOC, limit_price=95
        )
    )

    assert client.get_order_by_id(order.id).status == OrderStatus.CANCELED


def test_day_orders_expire_at_the_session_end(fake: FakeAlpaca, client: TradingClient) -> None:
    order = client.submit_order(market())

    fake.expire_day_orders()

    assert client.get_order_by_id(order.id).status == OrderStatus.EXPIRED
