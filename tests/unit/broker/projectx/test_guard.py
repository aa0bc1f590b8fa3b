"""Guard mode on a funded futures account: orders placed in the platform's own screen are booked
as "manual", meet the risk rules, and a daily-loss breach they cause ends flat and HALTED."""

from __future__ import annotations

from decimal import Decimal

from tests.unit.broker.projectx.conftest import Harness
from trading.model import EnforcementExecuted, OrderCancelled, OrderSubmitted, TradingState

DAILY_LOSS = {"daily_realized_loss": {"limit": 500, "action": "flatten_and_lock"}}


async def test_guard_hand_orders_booked_as_manual_with_their_fills(harness: Harness) -> None:
    fake, account = harness.fake, harness.account_id
    fake.set_price("ES", 5000)
    await harness.start()

    venue_id = fake.place_hand_order(account, "ES", "buy", 2)

    await harness.wait_for(lambda: "ES" in harness.broker.positions(), what="the hand fill")
    submitted = harness.recorder.of(OrderSubmitted)
    assert [(e.strategy, e.symbol, e.quantity, e.order_id) for e in submitted] == [
        ("manual", "ES", 2, f"X-{venue_id}")
    ]
    position = harness.broker.positions()["ES"]
    assert (position.quantity, position.avg_price) == (2, 5000)


async def test_guard_hand_trades_breaching_daily_loss_end_flat_and_halted(harness: Harness) -> None:
    fake, account = harness.fake, harness.account_id
    fake.set_price("ES", 5000)
    fake.set_price("MES", 5000)
    await harness.start()
    risk = harness.with_risk(DAILY_LOSS)
    fake.place_hand_order(account, "MES", "buy", 3)
    fake.place_hand_order(account, "ES", "buy", 2)
    resting = fake.place_hand_order(account, "MES", "buy", 1, type="limit", limit_price=4900)
    await harness.wait_for(lambda: len(harness.broker.positions()) == 2, what="both hand fills")

    fake.set_price("ES", 4994)
    fake.place_hand_order(account, "ES", "sell", 2)  # realizes 2 x 6 x 50 = -600: the breach

    await harness.wait_for(lambda: not fake.positions(account), what="the platform flat")
    await harness.wait_for(lambda: not harness.broker.positions(), what="the books flat")
    assert risk.state is TradingState.HALTED
    assert [o["status"] for o in fake.orders(account) if o["id"] == resting] == [3]  # cancelled
    await harness.wait_for(
        lambda: any("flat confirmed" in e.result for e in harness.recorder.of(EnforcementExecuted)),
        what="the flatten confirmed",
    )
    rows = harness.audit.recent(20)
    assert any(r["action"] == "flatten" and "flat confirmed" in r["result"] for r in rows)
    balance = Decimal(str(fake.account(account)["balance"]))
    await harness.wait_for(lambda: Decimal(str(harness.broker.account().cash)) == balance, what="cash")


async def test_guard_entries_placed_by_hand_while_halted_are_cancelled(harness: Harness) -> None:
    fake, account = harness.fake, harness.account_id
    fake.set_price("ES", 5000)
    await harness.start()
    risk = harness.with_risk(DAILY_LOSS)
    risk.pause("testing the guard")

    resting = fake.place_hand_order(account, "ES", "buy", 1, type="limit", limit_price=4990)

    await harness.wait_for(lambda: harness.recorder.of(OrderCancelled), what="the guard's cancel")
    assert [o["status"] for o in fake.orders(account) if o["id"] == resting] == [3]
    fake.place_hand_order(account, "ES", "buy", 1)  # a market entry fills before any cancel
    await harness.wait_for(
        lambda: len(fake.orders(account)) == 3 and not fake.positions(account), what="undone"
    )
    await harness.wait_for(lambda: not harness.broker.positions(), what="the books flat")
    assert harness.broker.statistics().guard_cancels == 2
