"""Desk orders through the Alpaca adapter against the fake: fills and partial fills, a reject,
a bracket whose take-profit fills, an OCO, cancel and replace, each booked in the journal
before its events are published."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal

from tests.unit.broker.alpaca.conftest import Harness
from trading.model import (
    AccountUpdated,
    Order,
    OrderAccepted,
    OrderCancelled,
    OrderFilled,
    OrderModified,
    OrderRejected,
    OrderRole,
    OrderSide,
    OrderStatus,
    OrderSubmitted,
    OrderType,
    PositionChanged,
    PositionClosed,
    PositionOpened,
    TimeInForce,
)
from trading.storage import JournalReader

BUY, SELL = OrderSide.BUY, OrderSide.SELL


def limit(side: OrderSide, qty: float, price: float, **kw: object) -> Order:
    return Order(symbol="AAPL", side=side, quantity=qty, order_type=OrderType.LIMIT, price=price, **kw)  # type: ignore[arg-type]


async def test_market_order_is_submitted_accepted_and_filled_in_order(harness: Harness) -> None:
    harness.fake.set_price("AAPL", 100)
    await harness.start()
    order = Order(symbol="AAPL", side=BUY, quantity=10, time_in_force=TimeInForce.DAY)
    harness.recorder.events.clear()

    harness.broker.submit(order)

    await harness.wait_for(lambda: order.status is OrderStatus.FILLED, what="the fill")
    names = harness.recorder.names(OrderSubmitted, OrderAccepted, OrderFilled, PositionOpened, AccountUpdated)
    assert names[:4] == ["OrderSubmitted", "OrderAccepted", "OrderFilled", "PositionOpened"]
    fill = harness.recorder.of(OrderFilled)[0]
    assert (fill.quantity, fill.price, fill.order_id) == (10, 100.0, order.order_id)
    assert harness.broker.positions()["AAPL"].quantity == 10
    sent = harness.fake.requests.matching("POST", "/v2/orders")
    assert [r.body["client_order_id"] for r in sent] == [order.order_id]


async def test_partial_fills_are_booked_once_each_with_the_venue_execution_ids(harness: Harness) -> None:
    harness.fake.set_price("AAPL", 100)
    await harness.start()
    order = harness.broker.submit(limit(BUY, 10, 99))
    await harness.wait_for(lambda: order.status is OrderStatus.ACCEPTED, what="the acceptance")
    venue_id = harness.fake.orders()[0]["id"]

    harness.fake.fill(venue_id, 3, 98.5)
    harness.fake.fill(venue_id, 7, 99)

    await harness.wait_for(lambda: order.status is OrderStatus.FILLED, what="the second fill")
    fills = harness.recorder.of(OrderFilled)
    assert [(f.quantity, f.price, f.filled_quantity) for f in fills] == [(3, 98.5, 3), (7, 99.0, 10)]
    executions = [e["execution_id"] for e in harness.fake.events() if "execution_id" in e]
    assert [f.fill_id for f in fills] == executions
    journal_fills = JournalReader(harness.db, account="alpaca").fills(order_id=order.order_id)
    assert [(f.fill_id, f.quantity) for f in journal_fills] == [(executions[0], 3), (executions[1], 7)]
    assert harness.recorder.names(PositionOpened, PositionChanged) == ["PositionOpened", "PositionChanged"]


async def test_round_trip_books_exact_realized_pnl(harness: Harness) -> None:
    harness.fake.set_price("AAPL", 100.10)
    await harness.start()
    buy = harness.broker.submit(Order(symbol="AAPL", side=BUY, quantity=3, time_in_force=TimeInForce.DAY))
    await harness.wait_for(lambda: buy.status is OrderStatus.FILLED)
    harness.fake.set_price("AAPL", 100.20)

    sell = harness.broker.submit(Order(symbol="AAPL", side=SELL, quantity=3, time_in_force=TimeInForce.DAY))

    await harness.wait_for(lambda: sell.status is OrderStatus.FILLED)
    closed = harness.recorder.of(PositionClosed)[0]
    assert closed.realized_delta == Decimal("0.3")
    account = JournalReader(harness.db, account="alpaca").account()
    assert account is not None and account.realized_pnl == Decimal("0.3")


async def test_order_refused_by_the_venue_ends_rejected_with_its_reason(harness: Harness) -> None:
    harness.fake.set_price("AAPL", 100)
    await harness.start()
    harness.fake.faults.reject_orders("symbol is not tradable", via="http")

    order = harness.broker.submit(Order(symbol="AAPL", side=BUY, quantity=5, time_in_force=TimeInForce.DAY))

    await harness.wait_for(lambda: order.status is OrderStatus.REJECTED, what="the rejection")
    rejected = harness.recorder.of(OrderRejected)
    assert len(rejected) == 1 and "symbol is not tradable" in rejected[0].reason
    assert harness.broker.open_orders() == []
    stored = JournalReader(harness.db, account="alpaca").orders(ids=[order.order_id])
    assert stored[0].status is OrderStatus.REJECTED


async def test_order_rejected_on_the_stream_ends_rejected(harness: Harness) -> None:
    harness.fake.set_price("AAPL", 100)
    await harness.start()
    harness.fake.faults.reject_orders("order rejected by the exchange", via="stream")

    order = harness.broker.submit(limit(BUY, 5, 90))

    await harness.wait_for(lambda: order.status is OrderStatus.REJECTED, what="the rejection")
    assert harness.recorder.names(OrderSubmitted, OrderRejected) == ["OrderSubmitted", "OrderRejected"]


async def test_bracket_whose_take_profit_fills_closes_the_position_and_cancels_the_stop(
    harness: Harness,
) -> None:
    harness.fake.set_price("AAPL", 100)
    await harness.start()
    entry = Order(symbol="AAPL", side=BUY, quantity=10, time_in_force=TimeInForce.GTC)
    tp = limit(SELL, 10, 105, role=OrderRole.TAKE_PROFIT, time_in_force=TimeInForce.GTC)
    sl = Order(
        symbol="AAPL",
        side=SELL,
        quantity=10,
        order_type=OrderType.STOP,
        stop_price=95,
        role=OrderRole.STOP_LOSS,
        time_in_force=TimeInForce.GTC,
    )

    harness.broker.submit_bracket(entry, tp, sl)
    await harness.wait_for(lambda: entry.status is OrderStatus.FILLED and tp.status is OrderStatus.ACCEPTED)
    harness.fake.set_price("AAPL", 105)

    await harness.wait_for(lambda: sl.status is OrderStatus.CANCELLED, what="the stop's cancel")
    assert tp.status is OrderStatus.FILLED
    assert "AAPL" not in harness.broker.positions()
    closed = harness.recorder.of(PositionClosed)[0]
    assert closed.realized_delta == Decimal(50)
    post = harness.fake.requests.matching("POST", "/v2/orders")
    assert [r.body["order_class"] for r in post] == ["bracket"]


async def test_oco_exits_send_one_request_and_the_stop_fill_cancels_the_take_profit(harness: Harness) -> None:
    harness.fake.set_price("AAPL", 100)
    await harness.start()
    entry = harness.broker.submit(Order(symbol="AAPL", side=BUY, quantity=10, time_in_force=TimeInForce.DAY))
    await harness.wait_for(lambda: entry.status is OrderStatus.FILLED)
    tp = limit(SELL, 10, 105, role=OrderRole.TAKE_PROFIT)
    sl = Order(symbol="AAPL", side=SELL, quantity=10, order_type=OrderType.STOP, stop_price=97)

    harness.broker.submit_oco([tp, sl], check=False)
    await harness.wait_for(lambda: sl.status is OrderStatus.ACCEPTED and tp.status is OrderStatus.ACCEPTED)
    harness.fake.set_price("AAPL", 96)

    await harness.wait_for(lambda: tp.status is OrderStatus.CANCELLED, what="the take-profit's cancel")
    assert sl.status is OrderStatus.FILLED and sl.avg_fill_price == 96
    assert "AAPL" not in harness.broker.positions()
    post = harness.fake.requests.matching("POST", "/v2/orders")
    assert [r.body.get("order_class", "simple") for r in post] == ["simple", "oco"]


async def test_cancel_asks_the_venue_and_the_stream_ends_the_order(harness: Harness) -> None:
    harness.fake.set_price("AAPL", 100)
    await harness.start()
    order = harness.broker.submit(limit(BUY, 5, 90))
    await harness.wait_for(lambda: order.status is OrderStatus.ACCEPTED)

    assert harness.broker.cancel(order.order_id, "no longer wanted") is True

    await harness.wait_for(lambda: order.status is OrderStatus.CANCELLED, what="the cancel")
    assert harness.recorder.of(OrderCancelled)[0].reason == "no longer wanted"
    assert harness.broker.cancel(order.order_id) is False


async def test_modify_replaces_at_the_venue_and_keeps_our_order_id(harness: Harness) -> None:
    harness.fake.set_price("AAPL", 100)
    await harness.start()
    order = harness.broker.submit(limit(BUY, 5, 90))
    await harness.wait_for(lambda: order.status is OrderStatus.ACCEPTED)

    harness.broker.modify(order.order_id, price=95.5)

    await harness.wait_for(lambda: harness.recorder.of(OrderModified), what="the replace")
    assert order.price == 95.5 and order.is_open
    patch = harness.fake.requests.matching("PATCH", "/v2/orders/*")
    assert patch[0].body["client_order_id"] == f"{order.order_id}~1"
    harness.fake.set_price("AAPL", 95.5)
    await harness.wait_for(lambda: order.status is OrderStatus.FILLED, what="the replaced order's fill")
    assert [f.order_id for f in harness.recorder.of(OrderFilled)] == [order.order_id]


async def test_submit_that_times_out_is_looked_up_before_it_is_sent_again(
    make_harness: Callable[..., Harness],
) -> None:
    harness = make_harness(request_timeout=0.3)
    fake = harness.fake
    fake.set_price("AAPL", 100)
    await harness.start()
    fake.faults.stall_rest(1.0, methods=("POST",), path_prefix="/v2/orders")  # answered after our timeout

    order = harness.broker.submit(Order(symbol="AAPL", side=BUY, quantity=10, time_in_force=TimeInForce.DAY))

    await harness.wait_for(lambda: order.status is OrderStatus.FILLED, what="the fill")
    await asyncio.sleep(1.0)  # the stalled first POST reaches the venue now: a duplicate, refused
    lookups = fake.requests.matching("GET", "/v2/orders:by_client_order_id")
    assert [r.query["client_order_id"] for r in lookups][:1] == [order.order_id]
    assert [o["client_order_id"] for o in fake.orders()] == [order.order_id]
    assert len(harness.recorder.of(OrderFilled)) == 1


async def test_submit_answered_duplicate_takes_the_order_an_earlier_attempt_placed(harness: Harness) -> None:
    fake = harness.fake
    fake.set_price("AAPL", 100)
    await harness.start()
    order = Order(symbol="AAPL", side=BUY, quantity=2, order_type=OrderType.LIMIT, price=90)
    fake.engine.submit(  # as if an earlier attempt had got through and its answer was lost
        {
            "symbol": "AAPL",
            "qty": "2",
            "side": "buy",
            "type": "limit",
            "limit_price": "90",
            "time_in_force": "gtc",
            "client_order_id": order.order_id,
        }
    )

    harness.broker.submit(order)

    await harness.wait_for(lambda: order.status is OrderStatus.ACCEPTED, what="the order found")
    assert len(fake.orders()) == 1
    assert [r.status for r in fake.requests.matching("POST", "/v2/orders")] == [422]
    assert harness.recorder.of(OrderRejected) == []
