"""PaperBroker matching: fill prices, gaps, OCO, bars, commissions and event order."""

from __future__ import annotations

import pytest

from tests.unit.broker.conftest import ES
from trading.broker import PaperBroker
from trading.bus import EventBus
from trading.clock import TestClock
from trading.model import (
    MarketDataUpdated,
    Order,
    OrderCancelled,
    OrderFilled,
    OrderRole,
    OrderSide,
    OrderStatus,
    OrderType,
    PositionClosed,
    PositionOpened,
)

BUY, SELL = OrderSide.BUY, OrderSide.SELL


def _limit(side: OrderSide, price: float, qty: float = 1, **kw) -> Order:
    return Order(symbol="ES", side=side, quantity=qty, order_type=OrderType.LIMIT, price=price, **kw)


def _stop(side: OrderSide, stop: float, qty: float = 1, **kw) -> Order:
    return Order(symbol="ES", side=side, quantity=qty, order_type=OrderType.STOP, stop_price=stop, **kw)


def test_market_order_fills_at_next_price_then_events_then_price(broker, tick, recorder) -> None:
    tick(5000.0)
    order = broker.submit(Order(symbol="ES", side=BUY, quantity=2))
    assert order.status is OrderStatus.ACCEPTED  # not filled before the next price
    recorder.clear()

    tick(5001.25)

    assert recorder.names() == ["OrderFilled", "PositionOpened", "AccountUpdated", "MarketDataUpdated"]
    [fill] = recorder.of(OrderFilled)
    assert (fill.price, fill.quantity, fill.commission, fill.is_complete) == (5001.25, 2, 4.0, True)
    assert order.status is OrderStatus.FILLED and order.avg_fill_price == 5001.25


@pytest.mark.parametrize(("side", "expected"), [(BUY, 5000.75), (SELL, 4999.25)])
def test_market_order_slippage_goes_against_the_taker(bus, clock, side, expected) -> None:
    broker = PaperBroker(bus, clock, [ES], slippage_ticks=3)
    order = broker.submit(Order(symbol="ES", side=side, quantity=1))
    broker.on_market_data(MarketDataUpdated(ts=clock.now(), symbol="ES", price=5000.0))
    assert order.avg_fill_price == expected


def test_limit_buy_rests_until_price_reaches_it_and_fills_at_better_gap(broker, tick) -> None:
    order = broker.submit(_limit(BUY, 4990.0))
    tick(4995.0)
    assert order.status is OrderStatus.ACCEPTED
    tick(4987.5)  # gapped below the limit: a tick fills at the tick price
    assert order.status is OrderStatus.FILLED and order.avg_fill_price == 4987.5


def test_limit_sell_fills_at_limit_when_price_touches(broker, tick) -> None:
    order = broker.submit(_limit(SELL, 5010.0))
    tick(5010.0)
    assert order.avg_fill_price == 5010.0


def test_stop_sell_gap_through_fills_at_gap_price_not_stop(broker, tick, recorder) -> None:
    tick(5000.0)
    stop = broker.submit(_stop(SELL, 4990.0))
    tick(4991.0)
    assert stop.status is OrderStatus.ACCEPTED
    tick(4980.0)  # gap through the stop
    assert stop.avg_fill_price == 4980.0
    assert stop.triggered


def test_stop_buy_on_bar_inside_range_fills_at_stop(broker, tick) -> None:
    stop = broker.submit(_stop(BUY, 5005.0))
    tick(5002.0, open=5001.0, high=5006.0, low=5000.0)
    assert stop.avg_fill_price == 5005.0


def test_stop_buy_on_bar_gapping_open_fills_at_open(broker, tick) -> None:
    stop = broker.submit(_stop(BUY, 5005.0))
    tick(5012.0, open=5010.0, high=5015.0, low=5008.0)
    assert stop.avg_fill_price == 5010.0


def test_stop_limit_triggers_then_rests_as_limit_when_gapped_past(broker, tick) -> None:
    order = broker.submit(
        Order(
            symbol="ES",
            side=BUY,
            quantity=1,
            order_type=OrderType.STOP_LIMIT,
            stop_price=5005.0,
            price=5006.0,
        )
    )
    tick(5008.0)  # triggers, but the limit 5006 is not reachable at 5008
    assert order.triggered and order.status is OrderStatus.ACCEPTED
    tick(5006.0)
    assert order.status is OrderStatus.FILLED and order.avg_fill_price == 5006.0


def test_oco_both_legs_touched_by_one_bar_only_stop_fills(broker, tick, recorder) -> None:
    broker.submit(Order(symbol="ES", side=BUY, quantity=1))
    tick(5000.0)
    tp = _limit(SELL, 5010.0, role=OrderRole.TAKE_PROFIT, reduce_only=True)
    sl = _stop(SELL, 4990.0, role=OrderRole.STOP_LOSS, reduce_only=True)
    broker.submit_oco([tp, sl])
    recorder.clear()

    tick(5000.0, high=5012.0, low=4988.0)

    assert (sl.status, tp.status) == (OrderStatus.FILLED, OrderStatus.CANCELLED)
    names = ["OrderFilled", "PositionClosed", "OrderCancelled", "AccountUpdated", "MarketDataUpdated"]
    assert recorder.names() == names
    [cancel] = recorder.of(OrderCancelled)
    assert cancel.reason == f"OCO sibling {sl.order_id} filled"
    assert broker.positions() == {}
    # -10 points * 50 - 2 commissions of 2.0
    assert broker.account().cash == pytest.approx(100_000 - 500 - 4.0)


def test_oco_fill_cancels_every_other_leg_in_submission_order(broker, tick, recorder) -> None:
    broker.submit(Order(symbol="ES", side=BUY, quantity=3))
    tick(5000.0)
    legs = [_limit(SELL, 5010.0 + i, 3, reduce_only=True) for i in range(3)]
    legs.append(_stop(SELL, 4990.0, 3, reduce_only=True))
    broker.submit_oco(legs)
    recorder.clear()

    tick(5011.0)

    assert [o.status for o in legs] == [OrderStatus.FILLED] + [OrderStatus.CANCELLED] * 3
    assert [e.order_id for e in recorder.of(OrderCancelled)] == [o.order_id for o in legs[1:]]
    assert broker.open_orders() == [] and broker.positions() == {}


def test_oco_take_profit_fill_cancels_stop_in_same_step(broker, tick) -> None:
    broker.submit(Order(symbol="ES", side=SELL, quantity=2))
    tick(5000.0)
    tp = _limit(BUY, 4990.0, 2, reduce_only=True)
    sl = _stop(BUY, 5010.0, 2, reduce_only=True)
    broker.submit_oco([tp, sl])
    tick(4989.0)
    assert (tp.status, sl.status) == (OrderStatus.FILLED, OrderStatus.CANCELLED)
    assert broker.open_orders() == []
    assert broker.account().realized_pnl == pytest.approx((5000 - 4989) * 2 * 50)


def test_flip_publishes_closed_then_opened_with_realized_once(broker, tick, recorder) -> None:
    broker.submit(Order(symbol="ES", side=BUY, quantity=1))
    tick(5000.0)
    broker.submit(Order(symbol="ES", side=SELL, quantity=3))
    recorder.clear()
    tick(5004.0)
    closed, opened = recorder.of(PositionClosed)[0], recorder.of(PositionOpened)[0]
    assert (closed.quantity, closed.realized_delta, closed.commission) == (0.0, 200.0, 6.0)
    assert (opened.quantity, opened.avg_price, opened.realized_delta) == (-2.0, 5004.0, 0.0)


def test_reduce_only_larger_than_position_fills_part_and_cancels_rest(broker, tick) -> None:
    broker.submit(Order(symbol="ES", side=BUY, quantity=2))
    tick(5000.0)
    exit_order = broker.submit(_limit(SELL, 5001.0, 5, reduce_only=True))
    tick(5001.0)
    assert exit_order.filled_quantity == 2 and exit_order.status is OrderStatus.CANCELLED
    assert broker.positions() == {}


def test_tick_with_many_far_orders_pops_only_the_reached_ones(broker, tick) -> None:
    far = [broker.submit(_limit(BUY, 4000.0 - i * 0.25)) for i in range(200)]
    near = broker.submit(_limit(BUY, 4999.0))
    tick(4999.0)
    assert near.status is OrderStatus.FILLED
    assert all(o.status is OrderStatus.ACCEPTED for o in far)
    assert len(broker.open_orders("ES")) == 200


def test_unknown_symbol_tick_is_published_and_warned_once(broker, clock, recorder, caplog) -> None:
    for _ in range(3):
        broker.on_market_data(MarketDataUpdated(ts=clock.now(), symbol="ZZ", price=1.0))
    assert recorder.names() == ["MarketDataUpdated"] * 3
    assert caplog.text.count("'ZZ', which is not an instrument") == 1


def test_invalid_price_tick_is_dropped_and_counted(broker, clock, recorder) -> None:
    broker.on_market_data(MarketDataUpdated(ts=clock.now(), symbol="ES", price=float("nan")))
    assert recorder.events == []
    assert broker.statistics().bad_ticks == 1


def test_subscriber_submitting_on_fill_sees_consistent_book(
    bus: EventBus, clock: TestClock, broker, tick
) -> None:
    placed: list[Order] = []

    def on_fill(e: OrderFilled) -> None:
        if e.role is OrderRole.ENTRY:
            placed.append(
                broker.submit(_stop(SELL, e.price - 10, reduce_only=True, role=OrderRole.STOP_LOSS))
            )

    bus.subscribe(OrderFilled, on_fill)
    broker.submit(Order(symbol="ES", side=BUY, quantity=1))
    tick(5000.0)
    assert placed[0].status is OrderStatus.ACCEPTED  # rests; it did not match the price that filled the entry
    tick(4989.0)
    assert placed[0].status is OrderStatus.FILLED


@pytest.mark.parametrize(
    ("bar", "wins", "price"),
    [
        ({"open": 5012.0, "high": 5013.0, "low": 4988.0}, "tp", 5012.0),
        ({"open": 5010.0, "high": 5011.0, "low": 4985.0}, "tp", 5010.0),
        ({"open": 5000.0, "high": 5012.0, "low": 4988.0}, "sl", 4990.0),
        ({"open": 4987.0, "high": 5012.0, "low": 4986.0}, "sl", 4987.0),
    ],
    ids=["opens through the TP", "opens at the TP", "opens between: stop wins", "opens through the SL"],
)
def test_oco_bar_that_opens_through_a_leg_fills_that_leg_first_at_the_open(
    broker, tick, bar, wins, price
) -> None:
    broker.submit(Order(symbol="ES", side=BUY, quantity=1))
    tick(5000.0)
    tp = _limit(SELL, 5010.0, role=OrderRole.TAKE_PROFIT, reduce_only=True)
    sl = _stop(SELL, 4990.0, role=OrderRole.STOP_LOSS, reduce_only=True)
    broker.submit_oco([tp, sl])

    tick(5000.0, **bar)

    filled, cancelled = (tp, sl) if wins == "tp" else (sl, tp)
    assert (filled.status, cancelled.status) == (OrderStatus.FILLED, OrderStatus.CANCELLED)
    assert filled.avg_fill_price == price
    assert broker.positions() == {}


def test_oco_short_bracket_bar_opening_through_the_tp_fills_the_tp(broker, tick) -> None:
    broker.submit(Order(symbol="ES", side=SELL, quantity=1))
    tick(5000.0)
    tp = _limit(BUY, 4990.0, role=OrderRole.TAKE_PROFIT, reduce_only=True)
    sl = _stop(BUY, 5010.0, role=OrderRole.STOP_LOSS, reduce_only=True)
    broker.submit_oco([tp, sl])

    tick(5000.0, open=4988.0, high=5015.0, low=4987.0)

    assert (tp.status, sl.status) == (OrderStatus.FILLED, OrderStatus.CANCELLED)
    assert tp.avg_fill_price == 4988.0
