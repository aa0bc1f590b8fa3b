"""Guard mode: orders placed outside the desk (the fake's "web UI") are booked as "manual",
meet the risk rules, and a daily-loss breach they cause is flattened at the venue."""

from __future__ import annotations

from decimal import Decimal

from tests.unit.broker.alpaca.conftest import Harness
from trading.model import (
    EnforcementExecuted,
    OrderCancelled,
    OrderStatus,
    OrderSubmitted,
    PositionClosed,
    TradingState,
)
from trading.storage import JournalReader

DAILY_LOSS = {"daily_realized_loss": {"limit": 100, "action": "flatten_and_lock"}}


async def test_hand_orders_are_booked_as_manual_with_their_fills(harness: Harness) -> None:
    harness.fake.set_price("AAPL", 100)
    await harness.start()

    harness.fake.place_hand_order("AAPL", "buy", 5)

    await harness.wait_for(lambda: "AAPL" in harness.broker.positions(), what="the hand fill")
    submitted = harness.recorder.of(OrderSubmitted)
    assert [(e.strategy, e.symbol, e.quantity) for e in submitted] == [("manual", "AAPL", 5)]
    order_id = submitted[0].order_id
    assert order_id == "X-" + harness.fake.orders()[0]["id"]
    stored = JournalReader(harness.db, account="alpaca").orders(ids=[order_id])
    assert stored[0].status is OrderStatus.FILLED and stored[0].strategy == "manual"


async def test_hand_trades_breaching_the_daily_loss_are_flattened_and_the_account_halted(
    harness: Harness,
) -> None:
    fake = harness.fake
    fake.set_price("AAPL", 100)
    fake.set_price("MSFT", 50)
    await harness.start()
    risk = harness.with_risk(DAILY_LOSS)
    fake.place_hand_order("MSFT", "buy", 10)
    fake.place_hand_order("AAPL", "buy", 100)
    working = fake.place_hand_order("MSFT", "buy", 1, type="limit", limit_price=40, time_in_force="gtc")
    await harness.wait_for(lambda: len(harness.broker.positions()) == 2, what="both hand fills")

    fake.set_price("AAPL", 98.5)
    fake.place_hand_order("AAPL", "sell", 100)  # realizes -150: the breach

    await harness.wait_for(lambda: not fake.positions(), what="the venue to be flat")
    await harness.wait_for(lambda: not harness.broker.positions(), what="the books to be flat")
    assert risk.state is TradingState.HALTED
    assert all(o["status"] != "new" for o in fake.orders() if o["id"] == working["id"])
    closing = fake.requests.matching("POST", "/v2/orders")
    assert [(r.body["symbol"], r.body["side"], r.body["qty"]) for r in closing] == [("MSFT", "sell", 10.0)]
    await harness.wait_for(
        lambda: any("flat confirmed" in e.result for e in harness.recorder.of(EnforcementExecuted))
    )
    rows = harness.audit.recent(20)
    assert any(r["action"] == "flatten" and "flat confirmed" in r["result"] for r in rows)


async def test_entries_placed_by_hand_while_halted_are_cancelled_and_their_fills_closed(
    harness: Harness,
) -> None:
    fake = harness.fake
    fake.set_price("AAPL", 100)
    await harness.start()
    risk = harness.with_risk(DAILY_LOSS)
    risk.pause("testing the guard")
    assert risk.state is TradingState.HALTED

    resting = fake.place_hand_order("AAPL", "buy", 5, type="limit", limit_price=90, time_in_force="gtc")
    await harness.wait_for(
        lambda: harness.recorder.of(OrderCancelled), what="the guard's cancel of the resting order"
    )
    assert fake.orders()[0]["id"] == resting["id"] and fake.orders()[0]["status"] == "canceled"
    assert "guard" in harness.recorder.of(OrderCancelled)[0].reason

    fake.place_hand_order("AAPL", "buy", 7)  # a market order fills before any cancel can land

    await harness.wait_for(lambda: not fake.positions() and len(fake.orders()) == 3, what="the fill closed")
    await harness.wait_for(lambda: "AAPL" not in harness.broker.positions())
    closes = fake.requests.matching("POST", "/v2/orders")
    assert [(r.body["side"], r.body["qty"]) for r in closes] == [("sell", 7.0)]
    actions = [e.action for e in harness.recorder.of(EnforcementExecuted)]
    # the market order was seen "new" (cancel asked, too late) and then filled (closed again)
    assert actions == ["cancel_foreign_order", "cancel_foreign_order", "close_foreign_fill"]
    closed = harness.recorder.of(PositionClosed)[0]
    assert closed.realized_delta == Decimal(0)
