"""The stream drops mid-fill: the reconnect's reconciliation books what was missed, once;
a stream down past the limit makes the desk blind (REDUCING) until it listens again."""

from __future__ import annotations

from collections.abc import Callable

from tests.unit.broker.alpaca.conftest import Harness
from trading.model import (
    AlertRaised,
    BrokerBlind,
    BrokerSighted,
    Order,
    OrderFilled,
    OrderSide,
    OrderStatus,
    OrderType,
    Severity,
    TradingState,
)
from trading.storage import JournalReader

BUY = OrderSide.BUY


async def test_stream_drop_mid_fill_is_reconciled_on_reconnect_with_each_fill_booked_once(
    make_harness: Callable[..., Harness],
) -> None:
    harness = make_harness(poll_interval=60)  # only the reconnect's reconciliation can find them
    fake = harness.fake
    fake.set_price("AAPL", 100)
    await harness.start()
    order = harness.broker.submit(
        Order(symbol="AAPL", side=BUY, quantity=10, order_type=OrderType.LIMIT, price=99, strategy="desk")
    )
    await harness.wait_for(lambda: order.status is OrderStatus.ACCEPTED)
    venue_id = fake.orders()[0]["id"]
    sessions = fake.stream_statistics().sessions
    fake.faults.drop_stream_after("partial_fill")

    fake.fill(venue_id, 3, 98.5)  # delivered, then the connection drops
    fake.fill(venue_id, 7, 99.5)  # lost to the dropped connection (no replay)
    hand = fake.place_hand_order("AAPL", "buy", 2)  # also unseen by the stream

    await harness.wait_for(lambda: fake.stream_statistics().sessions > sessions, what="the SDK's reconnect")
    await harness.wait_for(lambda: order.status is OrderStatus.FILLED, what="the missed fill")
    await harness.wait_for(
        lambda: harness.broker.positions().get("AAPL") and harness.broker.positions()["AAPL"].quantity == 12
    )
    fills = [f for f in harness.recorder.of(OrderFilled) if f.order_id == order.order_id]
    assert [(f.quantity, f.price) for f in fills] == [(3, 98.5), (7, 99.5)]
    assert fills[1].fill_id == f"{venue_id}:10"
    manual = [f for f in harness.recorder.of(OrderFilled) if f.strategy == "manual"]
    assert [(f.order_id, f.quantity) for f in manual] == [("X-" + hand["id"], 2)]
    report = harness.broker.reconciliations()[-1]
    assert report.trigger == "reconnect"
    assert report.restored["fills booked"] == 2 and report.restored["orders placed elsewhere"] == 1
    journal = JournalReader(harness.db, account="alpaca")
    assert sorted(f.quantity for f in journal.fills()) == [2, 3, 7]
    # another drop and reconnect reads the same orders again: nothing is booked twice
    kept = len(harness.broker.reconciliations())
    fake.drop_stream()
    await harness.wait_for(lambda: len(harness.broker.reconciliations()) > kept, what="the second reconnect")
    assert len(journal.fills()) == 3 and harness.broker.positions()["AAPL"].quantity == 12
    assert harness.broker.reconciliations()[-1].restored["fills booked"] == 0


async def test_a_silent_stream_is_caught_up_by_polling_and_the_late_updates_book_nothing(
    harness: Harness,
) -> None:
    fake = harness.fake
    fake.set_price("AAPL", 100)
    await harness.start()
    order = harness.broker.submit(
        Order(symbol="AAPL", side=BUY, quantity=10, order_type=OrderType.LIMIT, price=99, strategy="desk")
    )
    await harness.wait_for(lambda: order.status is OrderStatus.ACCEPTED)
    updates = harness.broker.statistics().updates
    fake.pause_stream()

    fake.fill(fake.orders()[0]["id"], 4, 99)  # a partial fill of ours
    hand = fake.place_hand_order("AAPL", "buy", 2)  # and a hand order, filled

    await harness.wait_for(lambda: order.filled_quantity == 4, what="the poll to find the partial fill")
    await harness.wait_for(lambda: harness.broker.positions()["AAPL"].quantity == 6, what="the hand fill")
    fake.resume_stream()  # the held partial_fill, new and fill arrive now
    await harness.wait_for(lambda: harness.broker.statistics().updates >= updates + 3, what="the late updates")
    fills = harness.recorder.of(OrderFilled)
    assert [(f.order_id, f.quantity) for f in fills] == [(order.order_id, 4), ("X-" + hand["id"], 2)]
    assert harness.broker.positions()["AAPL"].quantity == 6 and order.filled_quantity == 4


async def test_stream_down_past_the_limit_is_blind_reducing_then_sighted_after_the_resync(
    harness: Harness,
) -> None:
    fake = harness.fake
    await harness.start()
    risk = harness.with_risk({"daily_realized_loss": {"limit": 100}})
    fake.faults.refuse_stream_auth(2)  # the next two reconnects are refused

    fake.drop_stream()

    await harness.wait_for(lambda: harness.recorder.of(BrokerBlind), timeout=5, what="blindness")
    assert risk.state is TradingState.REDUCING and "broker blind" in risk.state_reason
    critical = [a for a in harness.recorder.of(AlertRaised) if a.severity is Severity.CRITICAL]
    assert critical and "cannot be observed" in critical[0].message
    assert harness.broker.status()["blind"] is True
    await harness.wait_for(lambda: harness.recorder.of(BrokerSighted), timeout=10, what="sight again")
    assert risk.state is TradingState.ACTIVE
    assert harness.broker.status()["blind"] is False
    names = harness.recorder.names(BrokerBlind, BrokerSighted)
    assert names == ["BrokerBlind", "BrokerSighted"]


async def test_a_short_drop_is_not_blind(harness: Harness) -> None:
    fake = harness.fake
    await harness.start()
    sessions = fake.stream_statistics().sessions

    fake.drop_stream()

    await harness.wait_for(lambda: fake.stream_statistics().sessions > sessions, what="the SDK's reconnect")
    await harness.wait_for(lambda: harness.broker.status()["connected"])
    assert harness.recorder.of(BrokerBlind) == []
