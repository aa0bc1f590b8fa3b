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
from trading.storage import AuditRepository, Database, LockoutRepository, ViolationRepository

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
    return {
        "violations": ViolationRepository(db),
        "lockouts": LockoutRepository(db),
        "audit": AuditRepository(db),
    }
