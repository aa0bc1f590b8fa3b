from datetime import UTC, datetime
from decimal import Decimal

import pytest

from trading.model import OrderSide, RuleViolated, TradingState
from trading.risk.rules import DailyTrailingLoss


@pytest.mark.parametrize(("mark", "fires"), [(100.50, True), (100.51, False)], ids=["at", "a cent less"])
def test_daily_trailing_loss_give_back_from_todays_peak_fires_at_the_limit(make_desk, mark, fires):
    desk = make_desk({"daily_trailing_loss": {"limit": 1000}})
    desk.tick("GME", 100.0)
    desk.trade("GME", OrderSide.BUY, 1000, 100.0)
    desk.tick("GME", 101.5)  # peak 101,500 (+1,500 open)
    desk.tick("GME", mark)  # still +500 on the day, but 1,000 given back
    assert [v.rule for v in desk.of(RuleViolated)] == (["daily_trailing_loss"] if fires else [])
    assert desk.rm.state is (TradingState.HALTED if fires else TradingState.ACTIVE)


def test_daily_trailing_loss_peak_is_exact_and_shown(make_desk):
    desk = make_desk({"daily_trailing_loss": {"limit": 1000}})
    desk.tick("GME", 0.10)
    desk.trade("GME", OrderSide.BUY, 1000, 0.10)
    desk.tick("GME", 0.30)  # +200.00 (0.1 + 0.2 is not 0.3 in floats)
    rule = desk.rm.engine.rules["daily_trailing_loss"]
    assert (rule.peak, rule.floor) == (Decimal("100200.00"), Decimal("99200.00"))
    assert "today's peak 100,200.00" in rule.measure().detail


def test_daily_trailing_loss_peak_starts_again_at_the_reset_across_dst(make_desk, clock):
    clock.set_time(datetime(2026, 3, 8, 15, 0, tzinfo=UTC))  # the DST Sunday: reset at 22:00 UTC
    desk = make_desk({"daily_trailing_loss": {"limit": 1000}})
    desk.tick("GME", 100.0)
    desk.trade("GME", OrderSide.BUY, 1000, 100.0)
    desk.tick("GME", 101.5)  # peak 101,500
    clock.set_time(datetime(2026, 3, 8, 21, 59, 58, tzinfo=UTC))
    desk.tick("GME", 100.6)  # 16:59:59 CDT: 900 given back, today's peak still 101,500
    rule = desk.rm.engine.rules["daily_trailing_loss"]
    assert rule.peak == Decimal("101500")
    desk.tick("GME", 100.6)  # 17:00:00 CDT: the new day's peak is the equity now
    assert rule.peak == Decimal("100600")
    desk.tick("GME", 99.61)  # 990 below the new day's peak
    assert desk.of(RuleViolated) == []
    desk.tick("GME", 99.60)
    assert [v.rule for v in desk.of(RuleViolated)] == ["daily_trailing_loss"]


def test_daily_trailing_loss_is_a_loss_lockout():
    assert DailyTrailingLoss.loss_lockout is True
