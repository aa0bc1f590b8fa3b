"""PaperBroker with a journal: each step committed before it is published, restart from the
journal, and a storage failure that loses nothing."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from tests.unit.broker.conftest import AAPL, ES, Recorder
from trading.broker import PaperBroker
from trading.bus import EventBus
from trading.clock import TestClock
from trading.errors import BrokerStateError
from trading.model import (
    Event,
    MarketDataUpdated,
    Order,
    OrderAccepted,
    OrderFilled,
    OrderSide,
    OrderStatus,
    OrderType,
    PositionOpened,
    StorageDegraded,
    StorageRecovered,
    TimeInForce,
)
from trading.storage import Database, Journal, JournalReader

BUY, SELL = OrderSide.BUY, OrderSide.SELL


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(tmp_path / "desk.db")
    yield database
    database.close()


@pytest.fixture
def connection(db: Database):
    conn = db.engine.connect()
    yield conn
    conn.close()


@pytest.fixture
def journal(db: Database, connection) -> Iterator[Journal]:
    made = Journal(db, connection=connection)
    yield made
    made.close()


@pytest.fixture
def broker(bus: EventBus, clock: TestClock, journal: Journal) -> PaperBroker:
    made = PaperBroker(bus, clock, [ES, AAPL], starting_balance=100_000.0, journal=journal)
    assert made.commit_books() is None
    return made


@pytest.fixture
def reader(db: Database) -> JournalReader:
    return JournalReader(db)


def _limit(side: OrderSide, price: float, qty: float = 1, **kw) -> Order:
    return Order(symbol="ES", side=side, quantity=qty, order_type=OrderType.LIMIT, price=price, **kw)


def _stop(side: OrderSide, stop: float, qty: float = 1, **kw) -> Order:
    return Order(symbol="ES", side=side, quantity=qty, order_type=OrderType.STOP, stop_price=stop, **kw)


def _deny_writes(connection) -> Callable[[], None]:
    """SQLite refuses every insert on the journal's connection; returns how to allow them again."""
    driver = connection.connection.driver_connection
    driver.set_authorizer(lambda action, *_: sqlite3.SQLITE_DENY if action == sqlite3.SQLITE_INSERT else 0)
    return lambda: driver.set_authorizer(None)


def test_paper_journal_fill_is_committed_before_its_events_are_published(broker, bus, tick, reader) -> None:
    # Arrange: subscribers that read the database (another connection) when they hear of the fill
    seen: dict[str, object] = {}

    def on_fill(e: OrderFilled) -> None:
        seen["fills"] = [(f.fill_id, f.commission) for f in reader.fills(order_id=e.order_id)]
        seen["account"] = reader.account()

    def on_opened(e: PositionOpened) -> None:
        seen["positions"] = [(p.symbol, p.quantity) for p in reader.load().positions]

    bus.subscribe(OrderFilled, on_fill)
    bus.subscribe(PositionOpened, on_opened)
    broker.submit(Order(symbol="ES", side=BUY, quantity=2))
    # Act
    tick(5001.25)
    # Assert
    [fill] = reader.fills()
    fill_id = fill.fill_id
    assert seen["fills"] == [(fill_id, Decimal("4.0"))]
    acct = seen["account"]
    assert acct is not None and acct.commissions == Decimal("4.0") and acct.last_fill_id == fill_id
    assert acct.cash == broker.account().cash == Decimal("99996.0")
    assert seen["positions"] == [("ES", 2.0)]


def test_paper_journal_accepted_order_is_in_the_journal_when_accepted_is_published(
    broker, bus, reader
) -> None:
    statuses: list[str] = []
    bus.subscribe(
        OrderAccepted, lambda e: statuses.extend(o.status.value for o in reader.orders(ids=[e.order_id]))
    )

    broker.submit(_limit(BUY, 4990.0))

    assert statuses == ["ACCEPTED"]


def test_paper_journal_every_step_is_one_transaction(broker, journal, tick, clock) -> None:
    def transactions() -> int:
        return journal.statistics().transactions

    before = transactions()
    broker.submit(Order(symbol="ES", side=BUY, quantity=2))  # submit
    tick(5000.0)  # one price's fills
    legs = broker.submit_oco(
        [_limit(SELL, 5010.0, 2, reduce_only=True), _stop(SELL, 4990.0, 2, reduce_only=True)]
    )
    broker.modify(legs[0].order_id, price=5012.0)
    broker.cancel(legs[0].order_id)
    broker.submit(_limit(BUY, 4980.0, time_in_force=TimeInForce.DAY))
    broker.expire_day_orders()
    broker.flatten_all("test")  # cancel the stop (one step), then the exit order (one step)
    tick(5001.0)  # the exit fills

    assert transactions() - before == 10
    assert journal.pending == 0 and broker.statistics().journal_steps == transactions()


def test_paper_journal_oco_legs_are_one_step_and_published_after_all_are_accepted(
    broker, bus, journal, reader
) -> None:
    seen: list[list[str]] = []
    bus.subscribe(OrderAccepted, lambda e: seen.append(sorted(o.order_id for o in reader.orders())))
    before = journal.statistics().transactions
    legs = [_limit(BUY, 4990.0), _stop(BUY, 5010.0)]

    broker.submit_oco(legs)

    assert journal.statistics().transactions == before + 1
    both = sorted(o.order_id for o in legs)
    assert seen == [both, both]  # each leg's OrderAccepted: both legs already in the journal


def test_paper_restore_from_journal_rebuilds_the_account_positions_and_working_orders(
    broker, bus, clock, tick, db
) -> None:
    # Arrange: a long ES position with its OCO exits working, a closed AAPL round trip
    broker.submit(Order(symbol="AAPL", side=BUY, quantity=100))
    tick(190.37, "AAPL")
    broker.submit(Order(symbol="AAPL", side=SELL, quantity=100))
    tick(188.03, "AAPL")
    broker.submit(Order(symbol="ES", side=BUY, quantity=3))
    tick(5000.25)
    tp, sl = broker.submit_oco(
        [_limit(SELL, 5010.0, 3, reduce_only=True), _stop(SELL, 4990.0, 3, reduce_only=True)]
    )
    # Act
    fresh = PaperBroker(EventBus(), clock, [ES, AAPL])
    fresh.restore_from_journal(JournalReader(db).load())
    # Assert: exact money, the same positions, the same working orders
    assert fresh.account() == broker.account()
    assert fresh.account().realized_pnl == Decimal("-234.00")
    assert fresh.account().commissions == Decimal("7.00")
    [pos] = fresh.positions().values()
    old = broker.positions()["ES"]
    assert (pos.quantity, pos.avg_price, pos.cost_basis, pos.realized_pnl, pos.strategies) == (
        old.quantity,
        old.avg_price,
        old.cost_basis,
        old.realized_pnl,
        old.strategies,
    )
    assert [o.order_id for o in fresh.open_orders()] == [tp.order_id, sl.order_id]
    assert fresh.last_price("ES") == 5000.25
    # the restored OCO still works: the take-profit fills and cancels the stop
    fresh.on_market_data(MarketDataUpdated(ts=clock.now(), symbol="ES", price=5010.0))
    assert fresh.positions() == {} and fresh.get_order(sl.order_id).status is OrderStatus.CANCELLED


def test_paper_restore_from_journal_never_rearms_a_filled_order(broker, clock, tick, db, journal) -> None:
    # Arrange: a take-profit that filled
    broker.submit(Order(symbol="ES", side=BUY, quantity=1))
    tick(5000.0)
    tp = broker.submit(_limit(SELL, 5010.0, reduce_only=True))
    tick(5010.0)
    assert tp.status is OrderStatus.FILLED
    broker.submit(Order(symbol="ES", side=BUY, quantity=1))
    tick(5000.0)
    # Act: restart, and the price comes back to the take-profit
    fresh = PaperBroker(EventBus(), clock, [ES, AAPL], journal=journal)
    fresh.restore_from_journal(JournalReader(db).load())
    fresh.on_market_data(MarketDataUpdated(ts=clock.now(), symbol="ES", price=5010.0))
    # Assert: it does not fill again
    assert fresh.open_orders() == []
    assert fresh.positions()["ES"].quantity == 1
    assert [f.order_id for f in JournalReader(db).fills()].count(tp.order_id) == 1


def test_paper_restore_from_journal_without_books_raises(bus, clock, db) -> None:
    broker = PaperBroker(bus, clock, [ES])
    with pytest.raises(BrokerStateError, match="the journal has no account row"):
        broker.restore_from_journal(JournalReader(db).load())


def test_paper_commit_books_starts_the_journal_with_the_whole_account(bus, clock, db, tick) -> None:
    # Arrange: an account that traded without a journal (a v1 account being imported)
    plain = PaperBroker(bus, clock, [ES, AAPL], starting_balance="25000.50")
    plain.submit(Order(symbol="ES", side=BUY, quantity=2), check=False)
    plain.on_market_data(MarketDataUpdated(ts=clock.now(), symbol="ES", price=5000.0))
    working = plain.submit(_limit(SELL, 5010.0, 2, reduce_only=True))
    journal = Journal(db)
    importing = PaperBroker(EventBus(), clock, [ES, AAPL], journal=journal)
    importing.restore_state(plain.export_state())
    # Act
    assert importing.commit_books() is None
    journal.close()
    # Assert
    view = JournalReader(db).load()
    assert view.account is not None and view.account.cash == Decimal("24996.50")
    assert [(p.symbol, p.quantity) for p in view.positions] == [("ES", 2.0)]
    assert [o.order_id for o in view.working_orders] == [working.order_id]


def test_paper_journal_failure_publishes_degraded_once_and_keeps_trading(
    broker, bus, tick, connection, journal, db
) -> None:
    # Arrange
    recorder = Recorder(bus)
    allow = _deny_writes(connection)
    # Act: three steps while the journal cannot write
    broker.submit(Order(symbol="ES", side=BUY, quantity=2))
    tick(5000.0)
    broker.submit(_limit(SELL, 5010.0, 2, reduce_only=True))
    # Assert: one StorageDegraded, first; every step's events still published
    names = recorder.names()
    assert names[0] == "StorageDegraded" and names.count("StorageDegraded") == 1
    [degraded] = recorder.of(StorageDegraded)
    assert degraded.reason == "journal write failed: not authorized"
    assert "OrderFilled" in names and names.count("OrderAccepted") == 2
    assert journal.pending == 3 and broker.storage_problem == degraded.reason
    assert JournalReader(db).fills() == []
    # Act: the storage works again; the next step writes the held ones first
    allow()
    recorder.clear()
    broker.cancel(broker.open_orders()[0].order_id)
    # Assert
    assert recorder.names() == ["StorageRecovered", "OrderCancelled"]
    assert recorder.of(StorageRecovered)[0].steps_written == 4
    assert journal.pending == 0 and broker.storage_problem is None
    assert len(JournalReader(db).fills()) == 1
    assert JournalReader(db).load().account.cash == broker.account().cash


def test_paper_journal_held_steps_are_written_on_the_retry_timer(bus, clock, db, connection) -> None:
    # Arrange: a broker retrying on every price (interval ~0)
    journal = Journal(db, connection=connection)
    broker = PaperBroker(bus, clock, [ES], journal=journal, journal_retry_interval=1e-9)
    recorder = Recorder(bus)
    allow = _deny_writes(connection)
    assert broker.commit_books() is not None
    assert broker.flush_journal() is False  # still failing: no second StorageDegraded
    allow()
    # Act: a price with nothing to match
    broker.on_market_data(MarketDataUpdated(ts=clock.now(), symbol="ES", price=5000.0))
    # Assert
    assert [type(e).__name__ for e in recorder.events] == [
        "StorageDegraded",
        "StorageRecovered",
        "MarketDataUpdated",
    ]
    assert journal.pending == 0 and JournalReader(db).account() is not None
    journal.close()


def test_paper_without_journal_publishes_no_storage_events(bus, clock, tick) -> None:
    broker = PaperBroker(bus, clock, [ES])
    events: list[Event] = []
    bus.subscribe(Event, events.append)
    broker.submit(Order(symbol="ES", side=BUY, quantity=1))
    broker.on_market_data(MarketDataUpdated(ts=clock.now(), symbol="ES", price=5000.0))
    assert not [e for e in events if isinstance(e, (StorageDegraded, StorageRecovered))]
    assert broker.flush_journal() is True and broker.statistics().journal_steps == 0
    with pytest.raises(BrokerStateError, match="commit_books needs a broker with a journal"):
        broker.commit_books()


def test_paper_restore_from_journal_keeps_the_submission_order_of_orders_made_at_one_time(
    broker, clock, db
) -> None:
    # Arrange: twelve orders at the same moment (ids ending -9, -10, -11...: text order differs)
    submitted = [broker.submit(_limit(BUY, 4990.0 - i)).order_id for i in range(12)]
    # Act
    fresh = PaperBroker(EventBus(), clock, [ES, AAPL])
    fresh.restore_from_journal(JournalReader(db).load())
    # Assert
    assert [o.order_id for o in fresh.open_orders()] == submitted
