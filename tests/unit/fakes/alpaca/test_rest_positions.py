"""Positions and the account through the real alpaca-py TradingClient against the fake."""

from __future__ import annotations

import pytest
from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderClass, OrderSide, OrderStatus, PositionSide, TimeInForce
from alpaca.trading.models import FailedClosePositionDetails, Order
from alpaca.trading.requests import (
    ClosePositionRequest,
    LimitOrderRequest,
    MarketOrderRequest,
    StopLossRequest,
    TakeProfitRequest,
)

from tests.fakes.alpaca import FakeAlpaca


def buy(client: TradingClient, qty: float, symbol: str = "AAPL", side: OrderSide = OrderSide.BUY) -> Order:
    return client.submit_order(
        MarketOrderRequest(symbol=symbol, qty=qty, side=side, time_in_force=TimeInForce.DAY)
    )


def test_position_after_two_buys_has_the_average_entry_and_unrealized_pl(
    fake: FakeAlpaca, client: TradingClient
) -> None:
    fake.set_price("AAPL", 100)
    buy(client, 10)
    fake.set_price("AAPL", 103)
    buy(client, 5)

    fake.set_price("AAPL", 104)
    position = client.get_open_position("AAPL")

    assert (position.qty, position.side, position.avg_entry_price) == ("15", PositionSide.LONG, "101")
    assert (position.market_value, position.cost_basis, position.unrealized_pl) == ("1560", "1515", "45")
    assert (position.current_price, position.qty_available) == ("104", "15")


def test_short_position_reports_negative_qty_and_value(fake: FakeAlpaca, client: TradingClient) -> None:
    fake.set_price("TSLA", 200)
    buy(client, 4, symbol="TSLA", side=OrderSide.SELL)

    fake.set_price("TSLA", 190)
    position = client.get_open_position("TSLA")

    assert (position.qty, position.side, position.market_value, position.unrealized_pl) == (
        "-4",
        PositionSide.SHORT,
        "-760",
        "40",
    )


def test_open_position_of_a_flat_symbol_is_404_position_does_not_exist(client: TradingClient) -> None:
    with pytest.raises(APIError, match="position does not exist") as raised:
        client.get_open_position("AAPL")

    assert (raised.value.status_code, raised.value.code) == (404, 40410000)


def test_close_position_sells_the_whole_long_at_market(fake: FakeAlpaca, client: TradingClient) -> None:
    fake.set_price("AAPL", 100)
    buy(client, 10)

    order = client.close_position("AAPL")

    assert (order.side, order.qty, order.type.value) == (OrderSide.SELL, "10", "market")
    assert client.get_order_by_id(order.id).status == OrderStatus.FILLED
    assert client.get_all_positions() == []


def test_close_position_by_asset_id_and_part_of_the_quantity(fake: FakeAlpaca, client: TradingClient) -> None:
    fake.set_price("AAPL", 100)
    asset_id = buy(client, 10).asset_id

    client.close_position(str(asset_id), ClosePositionRequest(qty="4"))

    assert client.get_open_position("AAPL").qty == "6"


def test_close_position_held_by_bracket_legs_is_refused_403_insufficient_qty(
    fake: FakeAlpaca, client: TradingClient
) -> None:
    fake.set_price("AAPL", 100)
    client.submit_order(
        LimitOrderRequest(
            symbol="AAPL",
            qty=10,
            side=OrderSide.BUY,
            time_in_force=TimeInForce.GTC,
            limit_price=100,
            order_class=OrderClass.BRACKET,
            take_profit=TakeProfitRequest(limit_price=110),
            stop_loss=StopLossRequest(stop_price=90),
        )
    )

    with pytest.raises(
        APIError, match=r"insufficient qty available for order \(requested: 10, available: 0\)"
    ) as raised:
        client.close_position("AAPL")

    assert (raised.value.status_code, raised.value.code) == (403, 40310000)
    assert client.get_open_position("AAPL").qty_available == "0"


def test_close_all_positions_with_cancel_orders_frees_held_qty_and_flattens(
    fake: FakeAlpaca, client: TradingClient
) -> None:
    fake.set_price("AAPL", 100)
    fake.set_price("MSFT", 400)
    buy(client, 10)
    buy(client, 2, symbol="MSFT", side=OrderSide.SELL)
    client.submit_order(
        LimitOrderRequest(
            symbol="AAPL", qty=10, side=OrderSide.SELL, time_in_force=TimeInForce.GTC, limit_price=120
        )
    )

    answers = client.close_all_positions(cancel_orders=True)

    assert sorted((a.symbol, a.status) for a in answers) == [("AAPL", 200), ("MSFT", 200)]
    assert all(isinstance(a.body, Order) for a in answers)
    assert client.get_all_positions() == []
    assert fake.requests.matching("DELETE", "/v2/positions")[0].query == {"cancel_orders": "True"}


def test_close_all_positions_without_cancel_reports_the_held_position_as_failed(
    fake: FakeAlpaca, client: TradingClient
) -> None:
    fake.set_price("AAPL", 100)
    buy(client, 10)
    client.submit_order(
        LimitOrderRequest(
            symbol="AAPL", qty=10, side=OrderSide.SELL, time_in_force=TimeInForce.GTC, limit_price=120
        )
    )

    (answer,) = client.close_all_positions()

    assert answer.status == 403
    assert isinstance(answer.body, FailedClosePositionDetails)
    assert (answer.body.held_for_orders, answer.body.available) == (10, 0)


def test_account_equity_moves_with_marks_and_last_equity_with_the_session(
    fake: FakeAlpaca, client: TradingClient
) -> None:
    fake.set_price("AAPL", 100)
    buy(client, 10)
    fake.set_price("AAPL", 95)

    before_roll = client.get_account()
    fake.roll_day()
    fake.set_price("AAPL", 96)
    after_roll = client.get_account()
    position = client.get_open_position("AAPL")

    assert (before_roll.cash, before_roll.equity, before_roll.last_equity) == ("99000", "99950", "100000")
    assert (before_roll.long_market_value, before_roll.portfolio_value) == ("950", "99950")
    assert (after_roll.equity, after_roll.last_equity) == ("99960", "99950")
    assert (position.lastday_price, position.unrealized_intraday_pl, position.unrealized_pl) == (
        "95",
        "10",
        "-40",
    )


def test_account_buying_power_is_cash_for_a_cash_account() -> None:
    with FakeAlpaca(cash=5000, multiplier=1) as fake:
        client = TradingClient(fake.key_id, fake.secret_key, paper=True, url_override=fake.base_url)
        fake.set_price("AAPL", 100)
        buy(client, 10)

        account = client.get_account()

    assert (account.multiplier, account.cash, account.buying_power) == ("1", "4000", "4000")


def test_selling_more_than_a_long_in_one_order_is_refused_403(
    fake: FakeAlpaca, client: TradingClient
) -> None:
    fake.set_price("AAPL", 100)
    buy(client, 10)

    with pytest.raises(APIError, match="insufficient qty available"):
        buy(client, 15, side=OrderSide.SELL)
