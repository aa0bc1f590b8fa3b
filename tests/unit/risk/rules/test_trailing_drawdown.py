from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from trading.model import OrderSide, RuleViolated, TradingState
from trading.risk.rules import TrailingDrawdownConfig


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


# --- modes: intraday (above), end_of_day, static; freeze levels --------------------------

EOD = {"max_drawdown": 1000, "trailing": "end_of_day", "stop_trailing_at_start": False}


def _gme_round_trip(desk, entry: float, exit_: float) -> None:
    desk.trade("GME", OrderSide.BUY, 1000, entry)
    desk.trade("GME", OrderSide.SELL, 1000, exit_)


def _after_reset(desk, clock, seconds: float = 1.0) -> None:
    """A tick just after the next daily reset."""
    reset = desk.rm.next_reset
    clock.set_time(reset - timedelta(seconds=1))
    desk.tick("GME", desk.prices["GME"], seconds=seconds)


def test_trailing_drawdown_end_of_day_floor_does_not_rise_intraday(make_desk):
    desk = make_desk({"trailing_drawdown": EOD})
    desk.tick("GME", 100.0)
    desk.trade("GME", OrderSide.BUY, 1000, 100.0)
    desk.tick("GME", 120.0)  # equity 120,000 intraday
    rule = desk.rm.engine.rules["trailing_drawdown"]
    assert (rule.high_water, rule.floor) == (Decimal("100000"), Decimal("99000"))
    desk.tick("GME", 99.01)  # a 20,990 give-back: above the floor of the last end of day
    assert desk.of(RuleViolated) == []


@pytest.mark.parametrize(("mark", "fires"), [(109.00, True), (109.01, False)], ids=["at", "a cent above"])
def test_trailing_drawdown_end_of_day_floor_moves_at_the_reset_and_holds_live_equity(
    make_desk, clock, mark, fires
):
    desk = make_desk({"trailing_drawdown": EOD})
    desk.tick("GME", 100.0)
    _gme_round_trip(desk, 100.0, 110.0)  # balance 110,000
    _after_reset(desk, clock)
    rule = desk.rm.engine.rules["trailing_drawdown"]
    assert (rule.high_water, rule.floor) == (Decimal("110000"), Decimal("109000"))
    desk.trade("GME", OrderSide.BUY, 1000, 110.0)
    desk.tick("GME", mark)  # open P&L counts against the floor
    assert [v.rule for v in desk.of(RuleViolated)] == (["trailing_drawdown"] if fires else [])


def test_trailing_drawdown_end_of_day_reset_across_dst_is_at_17_chicago(make_desk, clock):
    # Sunday 2026-03-08: DST starts in Chicago at 02:00, so 17:00 CDT is 22:00 UTC (23:00 the day before)
    clock.set_time(datetime(2026, 3, 8, 15, 0, tzinfo=UTC))
    desk = make_desk({"trailing_drawdown": EOD})
    desk.tick("GME", 100.0)
    _gme_round_trip(desk, 100.0, 105.0)  # balance 105,000
    rule = desk.rm.engine.rules["trailing_drawdown"]
    clock.set_time(datetime(2026, 3, 8, 21, 59, 58, tzinfo=UTC))
    desk.tick("GME", 105.0)  # 16:59:59 CDT: still the same trading day
    assert rule.floor == Decimal("99000")
    desk.tick("GME", 105.0)  # 17:00:00 CDT
    assert rule.floor == Decimal("104000")


def test_trailing_drawdown_static_floor_never_moves(make_desk, clock):
    desk = make_desk({"trailing_drawdown": {"max_drawdown": 1000, "trailing": "static"}})
    desk.tick("GME", 100.0)
    _gme_round_trip(desk, 100.0, 150.0)
    _after_reset(desk, clock)
    rule = desk.rm.engine.rules["trailing_drawdown"]
    assert (rule.high_water, rule.floor) == (Decimal("100000"), Decimal("99000"))
    assert desk.of(RuleViolated) == []


@pytest.mark.parametrize(("mark", "fires"), [(50.00, True), (50.01, False)], ids=["at", "a cent above"])
def test_trailing_drawdown_boundary_static_floor(make_desk, mark, fires):
    desk = make_desk({"trailing_drawdown": {"max_drawdown": 1000, "trailing": "static"}})
    desk.tick("GME", 100.0)
    desk.trade("GME", OrderSide.BUY, 20, 100.0)
    desk.tick("GME", mark)  # 20 x 50.00 = exactly 1,000 below the start
    assert [v.rule for v in desk.of(RuleViolated)] == (["trailing_drawdown"] if fires else [])


@pytest.mark.parametrize(("mark", "fires"), [(100.10, True), (100.11, False)], ids=["at", "a cent above"])
def test_trailing_drawdown_boundary_floor_frozen_at_start_plus_100(make_desk, mark, fires):
    desk = make_desk({"trailing_drawdown": {"max_drawdown": 1000, "freeze_above_start": 100}})
    desk.tick("GME", 100.0)
    desk.trade("GME", OrderSide.BUY, 1000, 100.0)
    desk.tick("GME", 102.0)  # equity 102,000: would trail to 101,000, frozen at 100,100
    rule = desk.rm.engine.rules["trailing_drawdown"]
    assert rule.floor == Decimal("100100") and "frozen at 100100" in rule.measure().detail
    desk.tick("GME", mark)
    assert [v.rule for v in desk.of(RuleViolated)] == (["trailing_drawdown"] if fires else [])


def test_trailing_drawdown_freeze_without_stop_trailing_is_refused():
    with pytest.raises(ValueError, match="freeze_above_start sets where the floor stops rising"):
        TrailingDrawdownConfig(max_drawdown=1000, freeze_above_start=100, stop_trailing_at_start=False)
