from datetime import UTC, datetime
from decimal import Decimal

import pytest

from trading.model import OrderSide, RuleViolated, TradingState
from trading.risk.rules import DailyLoss

# Sunday 2026-03-08: DST starts in Chicago, so the 17:00 reset is at 22:00 UTC (23:00 the day before)
DST_SUNDAY = datetime(2026, 3, 8, 15, 0, tzinfo=UTC)


def _realized_then_open(desk, mark: float) -> None:
    """-600.00 realized on GME, then 100 shares open from 100.00 marked at ``mark``."""
    desk.tick("GME", 100.0)
    desk.trade("GME", OrderSide.BUY, 100, 100.0)
    desk.trade("GME", OrderSide.SELL, 100, 94.0)
    desk.trade("GME", OrderSide.BUY, 100, 100.0)
    desk.tick("GME", mark)


@pytest.mark.parametrize(("mark", "fires"), [(96.00, True), (96.01, False)], ids=["at", "a cent below"])
def test_daily_loss_net_counts_open_pnl_and_fires_at_the_limit(make_desk, mark, fires):
    desk = make_desk({"daily_loss": {"limit": 1000}})
    _realized_then_open(desk, mark)  # -600 realized - 400.00 (or -399.00) open
    assert [v.rule for v in desk.of(RuleViolated)] == (["daily_loss"] if fires else [])
    assert desk.rm.state is (TradingState.HALTED if fires else TradingState.ACTIVE)


def test_daily_loss_net_breach_message_and_flatten(make_desk):
    desk = make_desk({"daily_loss": {"limit": 1000}})
    _realized_then_open(desk, 96.0)
    [violation] = desk.of(RuleViolated)
    assert violation.message == "daily net loss -1,000.00 <= -1,000.00"
    [exit_order] = desk.broker.open_orders()
    assert exit_order.side is OrderSide.SELL and exit_order.reduce_only


def test_daily_loss_realized_basis_ignores_the_open_loss(make_desk):
    desk = make_desk({"daily_loss": {"limit": 1000, "basis": "realized"}})
    _realized_then_open(desk, 90.0)  # -600 realized, -1,000 open
    assert desk.of(RuleViolated) == []
    desk.trade("GME", OrderSide.SELL, 100, 96.0)  # -400 more realized: exactly -1,000
    assert [v.rule for v in desk.of(RuleViolated)] == ["daily_loss"]


@pytest.mark.parametrize(("commissions", "fires"), [(True, True), (False, False)], ids=["net", "gross"])
def test_daily_loss_commissions_count_unless_configured_gross(make_desk, commissions, fires):
    desk = make_desk({"daily_loss": {"limit": 1002, "include_commissions": commissions}})
    desk.tick("ES", 5000.0)
    desk.trade("ES", OrderSide.BUY, 2, 5000.0)  # 4.00 commissions
    desk.tick("ES", 4990.0)  # -1,000 open: -1,004 with the commissions
    assert [v.rule for v in desk.of(RuleViolated)] == (["daily_loss"] if fires else [])


def test_daily_loss_reset_across_dst_rearms_at_17_chicago(make_desk, clock):
    clock.set_time(DST_SUNDAY)
    desk = make_desk({"daily_loss": {"limit": 1000}})
    _realized_then_open(desk, 96.0)
    desk.tick("GME", 96.0)  # the flatten fills
    assert desk.rm.state is TradingState.HALTED
    clock.set_time(datetime(2026, 3, 8, 21, 59, 58, tzinfo=UTC))
    desk.tick("GME", 96.0)  # 16:59:59 CDT
    assert desk.rm.state is TradingState.HALTED
    desk.tick("GME", 96.0)  # 17:00:00 CDT: a new trading day
    assert desk.rm.state is TradingState.ACTIVE
    rule = desk.rm.engine.rules["daily_loss"]
    assert rule.measure().value == 0.0 and not rule.measure().breached


def test_daily_loss_is_a_loss_lockout():
    assert DailyLoss.loss_lockout is True


def test_daily_loss_limit_is_exact_money(make_desk):
    desk = make_desk({"daily_loss": {"limit": 1000.10}})
    assert desk.rm.engine.rules["daily_loss"]._limit == Decimal("1000.1")
