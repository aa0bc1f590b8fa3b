from decimal import Decimal

import pytest

from trading.model import OrderSide, RuleViolated, TradingState


def test_trailing_drawdown_floor_trails_high_water_and_breach_flattens(make_desk):
    desk = make_desk({"trailing_drawdown": {"max_drawdown": 1000, "stop_trailing_at_start": False}})
    desk.tick("ES", 5000.0)
    desk.trade("ES", OrderSide.BUY, 1, 5000.0)  # cash 99,998
    desk.tick("ES", 5040.0)  # equity 101,998: floor 100,998
    rule = desk.rm.engine.rules["trailing_drawdown"]
    assert rule.floor == 100_998.0
    desk.tick("ES", 5020.0)  # equity 100,998: at the floor
    [violation] = desk.of(RuleViolated)
    assert "trailing floor 100,998.00" in violation.message
    assert desk.rm.state is TradingState.HALTED
    assert [o.side for o in desk.broker.open_orders()] == [OrderSide.SELL]


def test_trailing_drawdown_floor_stops_at_starting_balance(make_desk):
    desk = make_desk({"trailing_drawdown": {"max_drawdown": 1000}})
    desk.tick("ES", 5000.0)
    desk.trade("ES", OrderSide.BUY, 1, 5000.0)
    desk.tick("ES", 5100.0)  # equity ~104,998: would trail to 103,998, capped at 100,000
    rule = desk.rm.engine.rules["trailing_drawdown"]
    assert rule.floor == 100_000.0
    desk.tick("ES", 5050.0)  # equity 102,498: above the capped floor
    assert desk.of(RuleViolated) == []


def test_trailing_drawdown_small_dip_does_nothing(make_desk):
    desk = make_desk({"trailing_drawdown": {"max_drawdown": 1000}})
    desk.tick("ES", 5000.0)
    desk.trade("ES", OrderSide.BUY, 1, 5000.0)
    desk.tick("ES", 4985.0)  # -750 - 2 commission
    assert desk.of(RuleViolated) == []
    [status] = desk.rm.rule_status()
    assert status.status == "ok" and round(status.used, 3) == 0.752


# Equity with an open GME position: the float mark is within the guard band of the floor,
# where the exact equity decides.
@pytest.mark.parametrize(
    ("mark", "fires"),
    [(100.00, True), (100.01, False), (99.99, True)],
    ids=["at the floor", "just above the floor", "just below the floor"],
)
def test_trailing_drawdown_boundary_fires_at_the_floor(make_desk, mark, fires):
    desk = make_desk({"trailing_drawdown": {"max_drawdown": 10, "stop_trailing_at_start": False}})
    desk.tick("GME", 100.0)
    desk.trade("GME", OrderSide.BUY, 1, 100.0)
    desk.tick("GME", 110.0)  # high-water 100,010.00: floor 100,000.00
    rule = desk.rm.engine.rules["trailing_drawdown"]
    assert (rule.high_water, rule.floor) == (Decimal("100010"), Decimal("100000"))
    desk.tick("GME", mark)
    assert [v.rule for v in desk.of(RuleViolated)] == (["trailing_drawdown"] if fires else [])


def test_trailing_drawdown_new_high_is_taken_exactly(make_desk):
    # 0.1 + 0.2 in floats is 0.30000000000000004: the mark is the exact equity, not the float
    desk = make_desk({"trailing_drawdown": {"max_drawdown": 1, "stop_trailing_at_start": False}})
    desk.tick("GME", 0.10)
    desk.trade("GME", OrderSide.BUY, 1000, 0.10)
    desk.tick("GME", 0.30)  # +200.00
    assert desk.rm.engine.rules["trailing_drawdown"].high_water == Decimal("100200.00")
