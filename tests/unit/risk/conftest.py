"""Fixtures for the risk tests: a real bus, TestClock and PaperBroker, and a small desk helper."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from trading.broker import PaperBroker
from trading.bus import EventBus
from trading.clock import TestClock
from trading.model import Event, Instrument, MarketDataUpdated, Order, OrderSide, OrderType
from trading.risk import RiskConfig, RiskManager, parse_risk_config
from trading.storage import Database, RiskRepository, ViolationRepository

# Tuesday 2026-01-06 15:00 UTC = 09:00 in Chicago (CST), inside regular trading hours.
START = datetime(2026, 1, 6, 15, 0, tzinfo=UTC)

INSTRUMENTS = (
    Instrument(symbol="ES", tick_size=0.25, multiplier=50.0, commission=2.0),
    Instrument(symbol="NQ", tick_size=0.25, multiplier=20.0, commission=2.0),
    Instrument(symbol="GME", tick_size=0.01, multiplier=1.0, asset_class="STOCK"),
)


class Desk:
    """A paper broker with a risk manager, driven tick by tick on a TestClock."""

    def __init__(self, bus: EventBus, clock: TestClock, broker: PaperBroker, rm: RiskManager) -> None:
        self.bus, self.clock, self.broker, self.rm = bus, clock, broker, rm
        self.events: list[Event] = []
        bus.subscribe(Event, self.events.append)
        self.prices: dict[str, float] = {}

    def tick(self, symbol: str, price: float, seconds: float = 1.0) -> None:
        self.clock.advance(seconds)
        self.prices[symbol] = price
        self.broker.on_market_data(MarketDataUpdated(ts=self.clock.now(), symbol=symbol, price=price))

    def order(self, symbol: str, side: OrderSide, quantity: float, **kw: Any) -> Order:
        return self.broker.submit(Order(symbol=symbol, side=side, quantity=quantity, **kw))

    def trade(self, symbol: str, side: OrderSide, quantity: float, fill_at: float) -> Order:
        """A market order filled on the next tick at ``fill_at``."""
        order = self.order(symbol, side, quantity)
        self.tick(symbol, fill_at)
        return order

    def stop(self, symbol: str, side: OrderSide, quantity: float, stop: float) -> Order:
        return self.order(symbol, side, quantity, order_type=OrderType.STOP, stop_price=stop)

    def of(self, kind: type[Any]) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]


@pytest.fixture
def clock() -> TestClock:
    return TestClock(START)


@pytest.fixture
def bus() -> EventBus:
    return EventBus()


@pytest.fixture
def broker(bus: EventBus, clock: TestClock) -> PaperBroker:
    return PaperBroker(bus, clock, INSTRUMENTS, starting_balance=100_000.0)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(tmp_path / "desk.db")
    yield database
    database.close()


@pytest.fixture
def make_desk(bus: EventBus, clock: TestClock, broker: PaperBroker) -> Iterator[Callable[..., Desk]]:
    """``make_desk(rules, **manager_kwargs)`` builds a started RiskManager on the shared broker."""
    managers: list[RiskManager] = []

    def build(rules: dict[str, Any] | RiskConfig, **kwargs: Any) -> Desk:
        cfg = rules if isinstance(rules, RiskConfig) else parse_risk_config({"rules": rules})
        rm = RiskManager(bus, broker, clock, cfg, **kwargs)
        managers.append(rm)
        desk = Desk(bus, clock, broker, rm)
        rm.start()
        return desk

    yield build
    for rm in managers:
        rm.stop()


def repositories(db: Database) -> dict[str, Any]:
    """The risk manager's store on ``db`` (records written by the database's background writer:
    ``rm.flush()`` before reading them)."""
    return {"store": RiskRepository(db)}


class Books:
    """A desk whose books live in a real ``desk.db``: the broker commits every step to the
    journal, the risk manager records to the same file and recounts from its fills.
    ``start()`` builds a desk from the file; ``restart()`` stops the running one (``stop``
    writes the rule states) and builds a new one from the file, as a restarted desk does;
    ``crash()`` builds a new one without stopping the old (what its writer had committed stays)."""

    def __init__(self, path: Path, clock: TestClock, rules: dict[str, Any], **manager: Any) -> None:
        self.path, self.clock, self.rules, self.manager = path, clock, rules, manager
        self.desk: Desk | None = None
        self._open: list[Any] = []
        self._crashed: list[Any] = []

    def start(self, *, store: bool = True) -> Desk:
        from trading.storage import Journal

        db = Database(self.path)
        journal = Journal(db)
        bus = EventBus()
        broker = PaperBroker(bus, self.clock, INSTRUMENTS, starting_balance=100_000.0, journal=journal)
        view = journal.load()
        if view.account is not None:
            broker.restore_from_journal(view)
        else:
            assert broker.commit_books() is None
        cfg = parse_risk_config({"rules": self.rules})
        stores = {"store": RiskRepository(db), "fills": journal.reader} if store else {}
        rm = RiskManager(bus, broker, self.clock, cfg, **stores, **self.manager)
        desk = Desk(bus, self.clock, broker, rm)
        rm.start()
        self._open.append((rm, journal, db))
        self.desk = desk
        return desk

    def restart(self, *, store: bool = True) -> Desk:
        self.close()
        return self.start(store=store)

    def crash(self) -> Desk:
        """A new desk from the file while the old one is left as it was (its queued records
        flushed first: what a crash after the writer's commit leaves)."""
        assert self.desk is not None
        assert self.desk.rm.flush()
        _rm, journal, db = self._open.pop()
        self._crashed.append((journal, db))  # closed at the end, never stopped (no state saved)
        return self.start()

    def violation_rows(self) -> list[dict[str, Any]]:
        assert self.desk is not None and self.desk.rm.flush()
        db = Database(self.path)
        try:
            return ViolationRepository(db).recent(1000)
        finally:
            db.close()

    def close(self) -> None:
        while self._open:
            rm, journal, db = self._open.pop()
            rm.stop()
            journal.close()
            db.close()
        while self._crashed:
            journal, db = self._crashed.pop()
            journal.close()
            db.close()


@pytest.fixture
def books(tmp_path: Path, clock: TestClock) -> Iterator[Callable[..., Books]]:
    """``books(rules, **manager_kwargs)``: a ``Books`` on ``tmp_path/desk.db``."""
    made: list[Books] = []

    def build(rules: dict[str, Any], **manager: Any) -> Books:
        made.append(Books(tmp_path / "desk.db", clock, rules, **manager))
        return made[-1]

    yield build
    for item in made:
        item.close()
