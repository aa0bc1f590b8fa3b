"""Flatten until the venue confirms flat: working orders (bracket legs holding the quantity)
cancelled first, every attempt audited, a 429 storm retried through, never lost."""

from __future__ import annotations

from tests.unit.broker.alpaca.conftest import Harness
from trading.model import (
    EnforcementExecuted,
    Order,
    OrderRole,
    OrderSide,
    OrderStatus,
    OrderType,
    TimeInForce,
)

BUY, SELL = OrderSide.BUY, OrderSide.SELL


async def _long_with_protection(harness: Harness) -> tuple[Order, Order, Order]:
    entry = Order(symbol="AAPL", side=BUY, quantity=10, time_in_force=TimeInForce.GTC)
    tp = Order(
        symbol="AAPL",
        side=SELL,
        quantity=10,
        order_type=OrderType.LIMIT,
        price=120,
        role=OrderRole.TAKE_PROFIT,
    )
    sl = Order(
        symbol="AAPL",
        side=SELL,
        quantity=10,
        order_type=OrderType.STOP,
        stop_price=80,
        role=OrderRole.STOP_LOSS,
    )
    harness.broker.submit_bracket(entry, tp, sl)
    await harness.wait_for(lambda: entry.status is OrderStatus.FILLED and sl.status is OrderStatus.ACCEPTED)
    return entry, tp, sl


async def test_flatten_cancels_the_legs_first_then_closes_and_confirms_flat(harness: Harness) -> None:
    harness.fake.set_price("AAPL", 100)
    await harness.start()
    _, tp, sl = await _long_with_protection(harness)

    exits = harness.broker.flatten_all("daily_realized_loss: test")

    assert [(o.symbol, o.side, o.quantity, o.status) for o in exits] == [("AAPL", SELL, 10, OrderStatus.NEW)]
    await harness.wait_for(lambda: exits[0].status is OrderStatus.FILLED, what="the closing fill")
    assert (tp.status, sl.status) == (OrderStatus.CANCELLED, OrderStatus.CANCELLED)
    assert harness.fake.positions() == []
    await harness.wait_for(lambda: harness.recorder.of(EnforcementExecuted))
    results = [e.result for e in harness.recorder.of(EnforcementExecuted)]
    assert results == ["attempt 1: flat confirmed by the broker (all symbols)"]
    methods = [(r.method, r.path) for r in harness.fake.requests.all() if r.method != "GET"]
    assert methods[-2:] == [("DELETE", "/v2/orders"), ("POST", "/v2/orders")]


async def test_flatten_through_a_429_storm_retries_until_flat_and_audits_each_attempt(
    harness: Harness,
) -> None:
    harness.fake.set_price("AAPL", 100)
    await harness.start()
    await _long_with_protection(harness)
    harness.fake.faults.rate_limit(9, methods=("DELETE", "POST"))  # more than one attempt's retries

    exits = harness.broker.flatten_all("daily_realized_loss: test")

    await harness.wait_for(lambda: not harness.fake.positions(), timeout=10, what="the venue flat")
    await harness.wait_for(
        lambda: any("flat confirmed" in e.result for e in harness.recorder.of(EnforcementExecuted))
    )
    results = [e.result for e in harness.recorder.of(EnforcementExecuted)]
    assert results[0].startswith("attempt 1: failed: HTTP 429")
    assert results[-1].startswith(f"attempt {len(results)}: flat confirmed")
    rows = [r for r in harness.audit.recent(50) if r["action"] == "flatten"]
    assert len(rows) == len(results) >= 2
    assert harness.fake.faults.statistics().rest_faults_fired == 9
    await harness.wait_for(lambda: not harness.broker.positions(), what="the books flat")
    filled = [o for o in exits if o.status is OrderStatus.FILLED]
    assert (
        sum(o.filled_quantity for o in filled) + sum(o.filled_quantity for o in harness.broker.open_orders())
        <= 10
    )


async def test_second_flatten_while_one_runs_joins_it(harness: Harness) -> None:
    harness.fake.set_price("AAPL", 100)
    await harness.start()
    await _long_with_protection(harness)

    first = harness.broker.flatten_all("rule_a: x")
    second = harness.broker.flatten_all("rule_b: y")

    assert [o.order_id for o in second] == [o.order_id for o in first]
    await harness.wait_for(lambda: not harness.fake.positions())
    sells = [r for r in harness.fake.requests.matching("POST", "/v2/orders") if r.body["side"] == "sell"]
    assert len(sells) == 1


async def test_close_position_closes_one_symbol_and_leaves_the_other(harness: Harness) -> None:
    harness.fake.set_price("AAPL", 100)
    harness.fake.set_price("MSFT", 50)
    await harness.start()
    harness.fake.place_hand_order("MSFT", "buy", 3)
    harness.fake.place_hand_order("AAPL", "buy", 4)
    await harness.wait_for(lambda: len(harness.broker.positions()) == 2)

    order = harness.broker.close_position("AAPL", "unrealized_loss: test")

    assert order is not None and order.quantity == 4
    await harness.wait_for(lambda: order.status is OrderStatus.FILLED)
    assert [p["symbol"] for p in harness.fake.positions()] == ["MSFT"]
