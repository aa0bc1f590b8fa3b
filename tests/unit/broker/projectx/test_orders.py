"""The desk's own orders on the platform: a bracket (the platform's exits recognised as ours), a
partial fill (booked once per execution), a modify in place, a cancel."""

from __future__ import annotations

from tests.unit.broker.projectx.conftest import Harness
from trading.model import (
    Order,
    OrderFilled,
    OrderModified,
    OrderRole,
    OrderSide,
    OrderStatus,
    OrderSubmitted,
    OrderType,
)


def _limit(side: OrderSide, quantity: float, price: float, **fields: object) -> Order:
    return Order(symbol="ES", side=side, quantity=quantity, order_type=OrderType.LIMIT, price=price, **fields)


async def test_bracket_exits_made_by_the_platform_are_ours_and_one_cancels_the_other(
    harness: Harness,
) -> None:
    fake, account = harness.fake, harness.account_id
    await harness.start()
    entry = _limit(OrderSide.BUY, 1, 5000)
    take_profit = _limit(OrderSide.SELL, 1, 5010, role=OrderRole.EXIT)
    stop_loss = Order(
        symbol="ES",
        side=OrderSide.SELL,
        quantity=1,
        order_type=OrderType.STOP,
        stop_price=4990,
        role=OrderRole.EXIT,
    )

    harness.broker.submit_bracket(entry, take_profit, stop_loss)
    await harness.wait_for(lambda: harness.broker.get_order(entry.order_id).status is OrderStatus.ACCEPTED)
    fake.set_price("ES", 5000)  # the entry fills; the platform makes the exits
    await harness.wait_for(lambda: len(fake.open_orders(account)) == 2, what="the platform's exits")
    fake.set_price("ES", 5010)  # the take profit fills, the stop is cancelled

    await harness.wait_for(lambda: not take_profit.is_open and not stop_loss.is_open, what="both exits ended")
    assert take_profit.status is OrderStatus.FILLED and stop_loss.status is OrderStatus.CANCELLED
    assert not harness.broker.positions() and harness.broker.statistics().foreign_orders == 0
    placed = fake.requests.matching("/api/Order/place")
    assert [(r.body["stopLossBracket"], r.body["takeProfitBracket"]) for r in placed] == [
        ({"ticks": -40, "type": 4}, {"ticks": 40, "type": 1})
    ]
    assert harness.broker.account().realized_pnl == 500.0  # 10 points x 50
    assert [e.strategy for e in harness.recorder.of(OrderSubmitted)] == ["manual"] * 3  # ours, none foreign


async def test_partial_fills_booked_once_each_at_their_prices(harness: Harness) -> None:
    fake = harness.fake
    await harness.start()
    order = _limit(OrderSide.BUY, 3, 5000)
    harness.broker.submit(order)
    await harness.wait_for(
        lambda: harness.broker.statistics().requests >= 1 and order.status is OrderStatus.ACCEPTED
    )
    [venue_id] = [o["id"] for o in fake.orders(harness.account_id) if o["customTag"] == order.order_id]

    fake.fill(venue_id, 1, 5000)
    await harness.wait_for(lambda: order.filled_quantity == 1, what="the first part")
    assert order.status is OrderStatus.PARTIALLY_FILLED
    fake.fill(venue_id, 2, 4999.5)
    await harness.wait_for(lambda: order.status is OrderStatus.FILLED, what="the rest")
    polls = harness.broker.statistics().reconciliations
    await harness.wait_for(lambda: harness.broker.statistics().reconciliations >= polls + 2, what="two polls")

    fills = harness.recorder.of(OrderFilled)
    assert [(f.quantity, f.price) for f in fills] == [(1, 5000), (2, 4999.5)]
    assert harness.broker.positions()["ES"].quantity == 3
    assert order.avg_fill_price == (5000 + 2 * 4999.5) / 3


async def test_modify_changes_the_order_in_place_and_the_books_follow(harness: Harness) -> None:
    fake, account = harness.fake, harness.account_id
    await harness.start()
    order = _limit(OrderSide.BUY, 1, 4990)
    harness.broker.submit(order)
    await harness.wait_for(lambda: order.status is OrderStatus.ACCEPTED)

    harness.broker.modify(order.order_id, quantity=2, price=4995)

    await harness.wait_for(lambda: harness.recorder.of(OrderModified), what="the modification")
    assert (order.quantity, order.price) == (2, 4995)
    [working] = fake.open_orders(account)
    assert (working["size"], working["limitPrice"], working["customTag"]) == (2, 4995, order.order_id)
    harness.broker.cancel(order.order_id)
    await harness.wait_for(lambda: order.status is OrderStatus.CANCELLED)
    assert fake.open_orders(account) == []
