"""Fill-to-flatten: the flatten goes out inside the delivery of the losing fill, and the later
subscribers see its closing order next. (The latency figures, fill to flatten and fill to the
other subscribers' OrderSubmitted, are measured by bench/bench_risk.py, not asserted here: a
busy machine must not fail a test.)"""

import pytest

from trading.broker import PaperBroker
from trading.model import (
    MarketDataUpdated,
    Order,
    OrderFilled,
    OrderSide,
    OrderSubmitted,
    OrderType,
    RuleViolated,
)
from trading.risk import RiskManager, parse_risk_config
from trading.storage import RiskRepository, ViolationRepository

from .conftest import INSTRUMENTS


class _TimedBroker(PaperBroker):
    """Notes the order of the moments that matter (instrumentation only)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.moments: list[str] = []

    def flatten_all(self, reason=""):
        orders = super().flatten_all(reason)
        self.moments.append("flattened")
        return orders


@pytest.fixture
def timed(bus, clock, db):
    broker = _TimedBroker(bus, clock, INSTRUMENTS)
    rm = RiskManager(
        bus,
        broker,
        clock,
        parse_risk_config({"rules": {"daily_realized_loss": {"limit": 500}}}),
        store=RiskRepository(db),
    )
    bus.subscribe(OrderFilled, lambda e: broker.moments.append("filled"))  # before the risk manager
    rm.start()
    bus.subscribe(OrderSubmitted, lambda e: broker.moments.append(f"submitted {e.symbol}"))  # after it
    bus.subscribe(RuleViolated, lambda e: broker.moments.append("violated"))
    yield broker, rm
    rm.stop()


def test_fill_to_flatten_flatten_goes_out_during_the_fills_delivery_every_time(timed, clock, db):
    broker, rm = timed

    def tick(symbol, price):
        clock.advance(1)
        broker.on_market_data(MarketDataUpdated(ts=clock.now(), symbol=symbol, price=price))

    for _ in range(100):
        tick("ES", 5000.0)
        tick("NQ", 18000.0)
        broker.submit(Order(symbol="NQ", side=OrderSide.BUY, quantity=1))
        broker.submit(Order(symbol="ES", side=OrderSide.BUY, quantity=1))
        tick("NQ", 18000.0)
        tick("ES", 5000.0)
        broker.submit(
            Order(symbol="ES", side=OrderSide.SELL, quantity=1, order_type=OrderType.STOP, stop_price=4990.0)
        )
        broker.moments.clear()
        # Act: the stop fills at a loss past the limit
        tick("ES", 4985.0)
        # Assert (structure): the fill, the flatten while its position event is delivered, then the
        # flatten's closing order reaches the later subscribers, then the violation is published
        assert broker.moments == ["filled", "flattened", "submitted NQ", "violated"]
        tick("NQ", 18000.0)
        clock.set_time(rm.next_reset)
        rm.sweep()
    assert rm.flush()
    assert ViolationRepository(db).count() == 100  # and every breach was recorded, after
