"""PaperBroker order entry: checks, rejections, OCO, modify, cancel, exits, expiry, state."""

from __future__ import annotations

import json

import pytest

from tests.unit.broker.conftest import AAPL, ES
from trading.broker import Broker, PaperBroker
from trading.errors import BrokerStateError, OrderError, UnknownInstrumentError
from trading.model import (
    MarketDataUpdated,
    Order,
    OrderDenied,
    OrderModified,
    OrderRejected,
    OrderRole,
    OrderSide,
    OrderStatus,
    OrderType,
    TimeInForce,
)

BUY, SELL = OrderSide.BUY, OrderSide.SELL


def _limit(side: OrderSide, price: float, qty: float = 1, symbol: str = "ES", **kw) -> Order:
    return Order(symbol=symbol, side=side, quantity=qty, order_type=OrderType.LIMIT, price=price, **kw)


def _long(broker: PaperBroker, tick, qty: float = 2, price: float = 5000.0) -> None:
    broker.submit(Order(symbol="ES", side=BUY, quantity=qty), check=False)
    tick(price)


def test_paper_broker_implements_the_broker_protocol(broker) -> None:
    assert isinstance(broker, Broker)


def test_pre_trade_check_denial_ends_denied_with_event(broker, recorder) -> None:
    broker.add_pre_trade_check(lambda o: ("max_position", "limit 1 contract") if o.quantity > 1 else None)
    order = broker.submit(Order(symbol="ES", side=BUY, quantity=2))
    assert order.status is OrderStatus.DENIED and order.reason == "limit 1 contract"
    [denied] = recorder.events
    assert isinstance(denied, OrderDenied) and (denied.rule, denied.reason) == (
        "max_position",
        "limit 1 contract",
    )
    assert broker.open_orders() == []


def test_pre_trade_check_that_raises_fails_closed(broker, caplog) -> None:
    def broken(order: Order) -> None:
        raise RuntimeError("rule crashed")

    broker.add_pre_trade_check(broken)
    order = broker.submit(Order(symbol="ES", side=BUY, quantity=1))
    assert order.status is OrderStatus.DENIED
    assert "pre-trade check" in caplog.text and broker.statistics().check_errors == 1


def test_pre_trade_check_sees_exit_roles_but_exits_api_skips_it(broker, tick) -> None:
    seen: list[OrderRole] = []
    _long(broker, tick)
    broker.add_pre_trade_check(lambda o: seen.append(o.role) or ("halt", "halted"))
    denied = broker.submit(_limit(SELL, 5100.0, role=OrderRole.EXIT, reduce_only=True))
    exits = broker.flatten_all("risk: halted")
    assert denied.status is OrderStatus.DENIED and seen == [OrderRole.EXIT]
    [exit_order] = exits
    assert exit_order.status is OrderStatus.ACCEPTED and exit_order.role is OrderRole.EXIT
    tick(5001.0)
    assert broker.positions() == {}


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda: Order(symbol="NQ", side=BUY, quantity=1), "unknown symbol 'NQ' (known: AAPL, ES)"),
        (
            lambda: Order(symbol="ES", side=SELL, quantity=1, reduce_only=True),
            "would not reduce the ES position",
        ),
    ],
)
def test_submit_bad_input_is_rejected_with_reason(broker, recorder, make, reason) -> None:
    order = broker.submit(make())
    assert order.status is OrderStatus.REJECTED
    [event] = recorder.events
    assert isinstance(event, OrderRejected) and reason in event.reason
    assert broker.open_orders() == []


def test_submit_mutated_quantity_and_missing_limit_price_are_rejected(broker) -> None:
    zero = Order(symbol="ES", side=BUY, quantity=1)
    zero.quantity = 0
    no_price = _limit(BUY, 5000.0)
    no_price.price = None
    assert broker.submit(zero).reason == "order quantity must be a finite number > 0, got 0"
    assert broker.submit(no_price).reason == "LIMIT order needs a finite price > 0, got None"


def test_submit_twice_raises_and_duplicate_id_rejects(broker) -> None:
    order = broker.submit(Order(symbol="ES", side=BUY, quantity=1))
    with pytest.raises(OrderError, match="is ACCEPTED; only a NEW order can be submitted"):
        broker.submit(order)
    dup = broker.submit(Order(symbol="ES", side=BUY, quantity=1, order_id=order.order_id))
    assert dup.status is OrderStatus.REJECTED and "duplicate order id" in dup.reason


def test_submit_off_tick_limit_rejected_naming_the_tick_size(broker, tick) -> None:
    # (issue 13: it was rounded to the nearest tick, 4995.25, and could fill above the trader's limit)
    order = broker.submit(_limit(BUY, 4995.2))
    assert order.status is OrderStatus.REJECTED and order.price == 4995.2
    assert order.reason == (
        "limit price 4995.2 is not a multiple of the ES tick size 0.25 (nearest valid prices 4995 and 4995.25)"
    )
    tick(4995.25)
    assert broker.positions() == {}


def test_submit_off_tick_stop_rejected_naming_the_tick_size(broker) -> None:
    order = broker.submit(
        Order(symbol="ES", side=SELL, quantity=1, order_type=OrderType.STOP, stop_price=4990.1)
    )
    assert order.status is OrderStatus.REJECTED
    assert order.reason.startswith("stop price 4990.1 is not a multiple of the ES tick size 0.25")


def test_submit_on_tick_price_with_float_noise_accepted_as_the_tick(broker) -> None:
    order = broker.submit(_limit(BUY, 4995.0 + 0.1 + 0.15))  # 4995.250000000001 or so
    assert order.status is OrderStatus.ACCEPTED and order.price == 4995.25


def test_modify_to_an_off_tick_price_raises_and_changes_nothing(broker) -> None:
    order = broker.submit(_limit(BUY, 4990.0))
    with pytest.raises(OrderError, match=r"limit price 4990\.3 is not a multiple of the ES tick size 0\.25"):
        broker.modify(order.order_id, price=4990.3)
    assert order.price == 4990.0 and order.status is OrderStatus.ACCEPTED


def test_oco_with_one_bad_leg_rejects_every_leg(broker, recorder) -> None:
    good = _limit(BUY, 4990.0)
    bad = _limit(BUY, 180.0, symbol="NQ")
    broker.submit_oco([good, bad])
    assert (good.status, bad.status) == (OrderStatus.REJECTED, OrderStatus.REJECTED)
    assert good.reason.startswith(f"OCO sibling {bad.order_id} rejected: unknown symbol 'NQ'")
    assert broker.open_orders() == [] and recorder.names() == ["OrderRejected", "OrderRejected"]


def test_oco_denied_leg_denies_all(broker) -> None:
    broker.add_pre_trade_check(
        lambda o: ("no_stops", "stops off") if o.order_type is OrderType.STOP else None
    )
    a = _limit(SELL, 5010.0)
    b = Order(symbol="ES", side=SELL, quantity=1, order_type=OrderType.STOP, stop_price=4990.0)
    broker.submit_oco([a, b])
    assert (a.status, b.status) == (OrderStatus.DENIED, OrderStatus.DENIED)
    assert a.oco_group == b.oco_group


def test_oco_empty_raises(broker) -> None:
    with pytest.raises(OrderError, match="at least one order"):
        broker.submit_oco([])


def test_modify_changes_price_and_rematches(broker, tick, recorder) -> None:
    order = broker.submit(_limit(BUY, 4990.0))
    broker.modify(order.order_id, price=4999.0, quantity=3)
    assert recorder.of(OrderModified)[0].price == 4999.0
    tick(4999.0)
    assert order.status is OrderStatus.FILLED and order.filled_quantity == 3


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "give a new quantity, price or stop_price"),
        ({"quantity": 0}, "quantity must be a number above the filled 0"),
        ({"stop_price": 10.0}, "a LIMIT order has no pending stop"),
        ({"price": float("nan")}, "price must be a finite number > 0"),
    ],
)
def test_modify_bad_change_raises_and_changes_nothing(broker, kwargs, message) -> None:
    order = broker.submit(_limit(BUY, 4990.0))
    with pytest.raises(OrderError, match=message):
        broker.modify(order.order_id, **kwargs)
    assert (order.price, order.quantity) == (4990.0, 1)


def test_modify_filled_or_unknown_order_raises(broker, tick) -> None:
    filled = broker.submit(Order(symbol="ES", side=BUY, quantity=1))
    tick(5000.0)
    with pytest.raises(OrderError, match=f"cannot modify order {filled.order_id}: it is FILLED"):
        broker.modify(filled.order_id, quantity=2)
    with pytest.raises(OrderError, match="unknown order id 'nope'"):
        broker.modify("nope", quantity=2)


def test_cancel_open_done_and_unknown(broker, tick) -> None:
    order = broker.submit(_limit(BUY, 4990.0))
    assert broker.cancel(order.order_id, "changed my mind") is True
    assert order.status is OrderStatus.CANCELLED and order.reason == "changed my mind"
    assert broker.cancel(order.order_id) is False
    with pytest.raises(OrderError, match="cannot cancel: unknown order id 'nope'"):
        broker.cancel("nope")
    tick(4980.0)
    assert order.filled_quantity == 0


def test_close_position_cancels_symbol_orders_and_exits(broker, tick) -> None:
    _long(broker, tick)
    resting = broker.submit(_limit(BUY, 4000.0))
    other = broker.submit(_limit(BUY, 100.0, symbol="AAPL"))
    exit_order = broker.close_position("ES", "manual close")
    assert resting.status is OrderStatus.CANCELLED and other.status is OrderStatus.ACCEPTED
    assert exit_order is not None and exit_order.side is SELL and exit_order.quantity == 2
    tick(5002.0)
    assert broker.positions() == {} and broker.close_position("ES") is None
    with pytest.raises(UnknownInstrumentError, match="unknown symbol 'NQ'"):
        broker.close_position("NQ")


def test_reduce_position_clips_to_the_position(broker, tick) -> None:
    _long(broker, tick, qty=3)
    order = broker.reduce_position("ES", 10)
    assert order is not None and order.quantity == 3
    with pytest.raises(OrderError, match="quantity must be a finite number > 0"):
        broker.reduce_position("ES", 0)


def test_expire_day_orders_expires_only_day_orders(broker, recorder) -> None:
    day = broker.submit(_limit(BUY, 4990.0, time_in_force=TimeInForce.DAY))
    gtc = broker.submit(_limit(BUY, 4980.0))
    assert broker.expire_day_orders() == [day]
    assert day.status is OrderStatus.EXPIRED and gtc.status is OrderStatus.ACCEPTED
    assert recorder.names()[-1] == "OrderExpired"


def test_account_equity_and_buying_power_follow_price(broker, tick) -> None:
    _long(broker, tick, qty=1, price=5000.0)
    tick(5010.0)
    acct = broker.account()
    assert acct.unrealized_pnl == pytest.approx(500.0)
    assert acct.equity == pytest.approx(100_000 - 2.0 + 500.0)
    assert acct.buying_power == pytest.approx(acct.equity * 4 - 5010.0 * 50)


def test_export_restore_round_trips_through_json(broker, tick, bus, clock) -> None:
    _long(broker, tick, qty=2, price=5000.0)
    tp = _limit(SELL, 5010.0, 2, reduce_only=True)
    sl = Order(
        symbol="ES", side=SELL, quantity=2, order_type=OrderType.STOP, stop_price=4990.0, reduce_only=True
    )
    broker.submit_oco([tp, sl])
    state = json.loads(json.dumps(broker.export_state()))

    fresh = PaperBroker(bus, clock, [ES, AAPL])
    fresh.restore_state(state)

    assert fresh.account() == broker.account()
    assert {o.order_id for o in fresh.open_orders()} == {tp.order_id, sl.order_id}
    fresh.on_market_data(MarketDataUpdated(ts=clock.now(), symbol="ES", price=5010.0))
    restored_sl = fresh.get_order(sl.order_id)
    assert fresh.positions() == {} and restored_sl is not None and restored_sl.status is OrderStatus.CANCELLED


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda s: s.update(version=99), "state.version is 99"),
        (
            lambda s: s["positions"].append({"symbol": "NQ", "quantity": 1, "avg_price": 1}),
            "unknown symbol 'NQ'",
        ),
        (
            lambda s: s["open_orders"].append({"order_id": "x", "symbol": "ES", "side": "UP", "quantity": 1}),
            "side='UP' is not one of BUY, SELL",
        ),
        (lambda s: s.update(realized_pnl="lots"), "state.realized_pnl: expected a number"),
    ],
)
def test_restore_bad_state_raises_and_keeps_account(broker, tick, mutate, message) -> None:
    _long(broker, tick)
    before = broker.export_state()
    state = json.loads(json.dumps(before))
    mutate(state)
    with pytest.raises(BrokerStateError, match=message):
        broker.restore_state(state)
    assert broker.export_state() == before


def test_statistics_and_repr_describe_the_broker(broker, tick) -> None:
    _long(broker, tick)
    broker.submit(Order(symbol="NQ", side=BUY, quantity=1))
    stats = broker.statistics()
    assert (stats.submitted, stats.accepted, stats.rejected, stats.fills, stats.open_positions) == (
        2,
        1,
        1,
        1,
        1,
    )
    assert repr(broker).startswith("PaperBroker(instruments=2, open_orders=0, positions=1")
