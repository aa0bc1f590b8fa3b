"""A restart with positions open at the broker: the journal's books are reconciled with the
venue (the truth); what happened while the desk was down is booked or repaired and reported."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from tests.unit.broker.alpaca.conftest import Harness
from trading.model import Order, OrderSide, OrderStatus, OrderType, TimeInForce
from trading.storage import JournalReader

BUY, SELL = OrderSide.BUY, OrderSide.SELL


async def test_restart_books_what_happened_while_down_and_keeps_working_orders(
    make_harness: Callable[..., Harness],
) -> None:
    first = make_harness()
    fake = first.fake
    fake.set_price("AAPL", 100)
    await first.start()
    buy = first.broker.submit(Order(symbol="AAPL", side=BUY, quantity=10, strategy="desk"))
    resting = first.broker.submit(
        Order(symbol="AAPL", side=BUY, quantity=5, order_type=OrderType.LIMIT, price=90, strategy="desk")
    )
    doomed = first.broker.submit(
        Order(symbol="AAPL", side=BUY, quantity=1, order_type=OrderType.LIMIT, price=80, strategy="desk")
    )
    await first.wait_for(lambda: buy.status is OrderStatus.FILLED and doomed.status is OrderStatus.ACCEPTED)
    await first.stop()
    # while the desk is down: a hand sale at a profit, and a desk order cancelled in the web UI
    fake.set_price("AAPL", 101)
    sold = fake.place_hand_order("AAPL", "sell", 4)
    fake.cancel_by_hand(next(o["id"] for o in fake.orders() if o["client_order_id"] == doomed.order_id))

    second = make_harness()
    second.open()  # as the desk is built: before the loop, before the risk and trade managers

    assert second.broker.positions()["AAPL"].quantity == 6
    report = second.broker.reconciliations()[0]
    assert report.trigger == "start" and report.restored["orders placed elsewhere"] == 1
    assert report.clean, report.summary()
    journal = JournalReader(second.db, account="alpaca")
    hand = journal.orders(ids=["X-" + sold["id"]])
    assert hand[0].status is OrderStatus.FILLED and hand[0].strategy == "manual"
    account = journal.account()
    assert account is not None and account.realized_pnl == Decimal(4)
    assert journal.orders(ids=[doomed.order_id])[0].status is OrderStatus.CANCELLED
    await second.start()
    working = [o.order_id for o in second.broker.open_orders()]
    assert working == [resting.order_id]
    second.broker.cancel(resting.order_id, "after the restart")
    await second.wait_for(lambda: not second.broker.open_orders(), what="the cancel through the new process")
    assert [o["status"] for o in fake.orders() if o["client_order_id"] == resting.order_id] == ["canceled"]


async def test_first_start_takes_the_brokers_positions_and_cash_as_the_books(
    make_harness: Callable[..., Harness],
) -> None:
    harness = make_harness()
    fake = harness.fake
    fake.set_price("MSFT", 50)
    fake.place_hand_order("MSFT", "buy", 20)

    await harness.start()

    assert harness.broker.positions()["MSFT"].quantity == 20
    figures = fake.figures()
    account = harness.broker.account()
    assert account.cash == figures.cash + Decimal(20 * 50)
    assert account.equity == float(figures.equity)
    journal = JournalReader(harness.db, account="alpaca")
    assert [p.symbol for p in journal.load().positions] == ["MSFT"]


async def test_restart_repairs_a_position_that_differs_and_reports_it(
    make_harness: Callable[..., Harness],
) -> None:
    first = make_harness()
    fake = first.fake
    fake.set_price("AAPL", 100)
    await first.start()
    buy = first.broker.submit(Order(symbol="AAPL", side=BUY, quantity=10, time_in_force=TimeInForce.DAY))
    await first.wait_for(lambda: buy.status is OrderStatus.FILLED)
    await first.stop()
    fake.engine._book.apply_fill(
        "AAPL", "sell", Decimal(3), Decimal(105)
    )  # shares moved out for cash, no order

    second = make_harness()
    await second.start()

    assert second.broker.positions()["AAPL"].quantity == 7
    kinds = [d.kind for d in second.broker.reconciliations()[0].discrepancies]
    assert kinds == ["position", "cash"]
