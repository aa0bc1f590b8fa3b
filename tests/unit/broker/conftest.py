"""Fixtures for broker tests: a real bus, a TestClock, a PaperBroker and an event recorder."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from trading.broker import PaperBroker
from trading.bus import EventBus
from trading.clock import TestClock
from trading.model import Event, Instrument, MarketDataUpdated

ES = Instrument(symbol="ES", tick_size=0.25, multiplier=50, commission=2.0)
AAPL = Instrument(symbol="AAPL", tick_size=0.01, multiplier=1, commission=0.005, asset_class="STOCK")


class Recorder:
    def __init__(self, bus: EventBus) -> None:
        self.events: list[Event] = []
        bus.subscribe(Event, self.events.append)

    def names(self) -> list[str]:
        return [type(e).__name__ for e in self.events]

    def of(self, kind: type) -> list:
        return [e for e in self.events if isinstance(e, kind)]

    def clear(self) -> None:
        self.events.clear()


@pytest.fixture
def clock() -> TestClock:
    return TestClock()


@pytest.fixture
def bus() -> EventBus:
    return EventBus()


@pytest.fixture
def recorder(bus: EventBus) -> Recorder:
    return Recorder(bus)


@pytest.fixture
def broker(bus: EventBus, clock: TestClock) -> PaperBroker:
    return PaperBroker(bus, clock, [ES, AAPL], starting_balance=100_000.0)


@pytest.fixture
def tick(broker: PaperBroker, clock: TestClock) -> Callable[..., None]:
    def send(price: float, symbol: str = "ES", **bar: float) -> None:
        clock.advance(1)
        broker.on_market_data(MarketDataUpdated(ts=clock.now(), symbol=symbol, price=price, **bar))

    return send
