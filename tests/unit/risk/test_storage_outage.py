"""A storage outage is a risk event: the account is HALTED (no new entries, exits still pass) while
the books cannot be written, with one ERROR line (the journal's), and comes back when they can."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from trading.broker import PaperBroker
from trading.bus import EventBus
from trading.clock import TestClock
from trading.model import AlertRaised, Order, OrderSide, OrderStatus, OrderType, Severity, TradingState
from trading.risk import RiskManager, parse_risk_config
from trading.storage import Database, Journal, RiskRepository

from .conftest import INSTRUMENTS, Desk


@pytest.fixture
def outage(tmp_path: Path, clock: TestClock) -> Iterator[tuple[Desk, object]]:
    """A journaled desk whose journal has a connection of its own (so its disk can fill)."""
    db = Database(tmp_path / "desk.db")
    connection = db.engine.connect()
    journal = Journal(db, connection=connection)
    bus = EventBus()
    broker = PaperBroker(bus, clock, INSTRUMENTS, starting_balance=100_000.0, journal=journal)
    assert broker.commit_books() is None
    cfg = parse_risk_config({"rules": {"daily_realized_loss": {"limit": 1000}}})
    rm = RiskManager(bus, broker, clock, cfg, store=RiskRepository(db), fills=journal.reader)
    desk = Desk(bus, clock, broker, rm)
    rm.start()
    yield desk, connection
    rm.stop()
    journal.close()
    db.close()


def _disk_full(connection) -> None:
    """SQLite refuses to grow the file on the journal's connection: every step fails SQLITE_FULL."""
    driver = connection.connection.driver_connection
    pages = driver.execute("PRAGMA page_count").fetchone()[0]
    driver.execute(f"PRAGMA max_page_count = {pages}")


def _disk_freed(connection) -> None:
    connection.connection.driver_connection.execute("PRAGMA max_page_count = 1073741823")


def test_storage_outage_halts_entries_lets_exits_pass_and_logs_one_error(outage, caplog):
    desk, connection = outage
    desk.tick("ES", 5000.0)
    desk.trade("ES", OrderSide.BUY, 2, 5000.0)
    caplog.set_level(logging.INFO)
    # Act: the disk fills; the next steps cannot be written
    _disk_full(connection)
    for _ in range(50):  # until a step needs a new page
        desk.tick("ES", 5000.0)
        desk.order("ES", OrderSide.SELL, 1, order_type=OrderType.LIMIT, price=6000.0, reduce_only=True)
        if desk.rm.state is TradingState.HALTED:
            break
    # Assert: HALTED with the reason; entries refused, exits still pass
    assert desk.rm.state is TradingState.HALTED
    assert desk.rm.state_reason.startswith("storage degraded: journal write failed: database or disk is full")
    assert desk.order("ES", OrderSide.BUY, 1).status is OrderStatus.DENIED
    assert desk.order("ES", OrderSide.SELL, 1).status is OrderStatus.ACCEPTED
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.name for r in errors] == ["trading.storage.journal"]  # the journal's one line, no other
    [alert] = [a for a in desk.of(AlertRaised) if a.rule == "storage"]
    assert alert.severity is Severity.WARNING
    # Act: the disk has room again; the held steps are written
    caplog.clear()
    _disk_freed(connection)
    assert desk.broker.flush_journal() is True
    # Assert: back to ACTIVE, said at WARNING
    assert desk.rm.state is TradingState.ACTIVE
    recovered = [r for r in caplog.records if r.getMessage().startswith("storage recovered")]
    assert [r.levelno for r in recovered] == [logging.WARNING]
    assert desk.order("ES", OrderSide.BUY, 1).status is OrderStatus.ACCEPTED


@pytest.mark.parametrize(
    ("hold", "after"),
    [("lock", TradingState.HALTED), ("pause", TradingState.HALTED), ("cooldown", TradingState.REDUCING)],
)
def test_storage_outage_recovery_returns_to_the_state_it_would_otherwise_have(outage, hold, after):
    desk, connection = outage
    desk.tick("ES", 5000.0)
    if hold == "lock":
        desk.rm.enforcer.lock("account", "test", "locked", until=None, state=TradingState.HALTED)
    elif hold == "pause":
        desk.rm.pause("maintenance", who="ops")
    else:
        until = desk.clock.now().replace(year=2027)
        desk.rm.enforcer.lock("account", "test", "cooling", until=until, state=TradingState.REDUCING)
    _disk_full(connection)
    for _ in range(50):
        desk.broker.submit(Order(symbol="ES", side=OrderSide.BUY, quantity=1), check=False)
        desk.tick("ES", 5000.0)
        if desk.broker.storage_problem is not None:
            break
    assert desk.rm.state is TradingState.HALTED

    _disk_freed(connection)
    assert desk.broker.flush_journal() is True

    assert desk.rm.state is after
