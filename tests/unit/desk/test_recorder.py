"""OrderRecorder: order states and fills written on the database's background writer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from trading.broker import PaperBroker
from trading.bus import EventBus
from trading.clock import TestClock
from trading.desk._recorder import OrderRecorder
from trading.model import Instrument, MarketDataUpdated, Order, OrderSide
from trading.storage import Database, FillRepository, OrderRepository

ES = Instrument(symbol="ES", tick_size=0.25, multiplier=50, commission=2.0)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(tmp_path / "desk.db")
    yield database
    database.close()


@pytest.fixture
def clock() -> TestClock:
    return TestClock()


@pytest.fixture
def bus() -> EventBus:
    return EventBus()


@pytest.fixture
def broker(bus: EventBus, clock: TestClock) -> PaperBroker:
    return PaperBroker(bus, clock, [ES], starting_balance=100_000.0)


def _fill_one_market_order(broker: PaperBroker, clock: TestClock) -> Order:
    order = broker.submit(Order(symbol="ES", side=OrderSide.BUY, quantity=2))
    clock.advance(1)
    broker.on_market_data(MarketDataUpdated(ts=clock.now(), symbol="ES", price=5000.0))
    return order


def test_order_recorder_close_writes_latest_order_state_and_its_fill(
    db: Database, bus: EventBus, broker: PaperBroker, clock: TestClock
) -> None:
    # Arrange
    recorder = OrderRecorder(bus, broker, OrderRepository(db), FillRepository(db))
    recorder.start()
    # Act
    order = _fill_one_market_order(broker, clock)
    recorder.close()
    # Assert
    row = OrderRepository(db).get(order.order_id)
    assert row is not None
    assert (row["status"], row["filled_quantity"], row["avg_fill_price"]) == ("FILLED", 2.0, 5000.0)
    fills = FillRepository(db).for_order(order.order_id)
    assert [(f["quantity"], f["price"], f["commission"]) for f in fills] == [(2.0, 5000.0, 4.0)]
    assert recorder.errors == 0 and recorder.written >= 3  # at least accepted, filled, and the fill


def test_order_recorder_shares_the_database_writer(
    db: Database, bus: EventBus, broker: PaperBroker, clock: TestClock
) -> None:
    # Arrange: nothing written until the shared writer runs
    recorder = OrderRecorder(bus, broker, OrderRepository(db), FillRepository(db))
    order = _fill_one_market_order(broker, clock)
    assert OrderRepository(db).get(order.order_id) is None
    # Act
    db.writer().start()
    assert db.writer().flush()
    # Assert
    assert OrderRepository(db).get(order.order_id) is not None
    assert repr(db.writer()).endswith("channels=[orders, fills])")
    recorder.close()


def test_order_recorder_after_close_records_nothing_more(
    db: Database, bus: EventBus, broker: PaperBroker
) -> None:
    # Arrange
    recorder = OrderRecorder(bus, broker, OrderRepository(db), FillRepository(db))
    recorder.start()
    recorder.close()
    # Act: an order event after close
    order = broker.submit(Order(symbol="ES", side=OrderSide.BUY, quantity=1))
    # Assert
    assert db.writer().statistics().queued == 0
    assert db.writer().flush()
    assert OrderRepository(db).get(order.order_id) is None


def test_order_recorder_orders_and_fills_on_two_databases_is_refused(
    db: Database, tmp_path: Path, bus: EventBus, broker: PaperBroker
) -> None:
    with Database(tmp_path / "other.db") as other, pytest.raises(ValueError, match="must share a database"):
        OrderRecorder(bus, broker, OrderRepository(db), FillRepository(other))
