"""consistency on the paper broker and a TestClock (GME: a price move is the P&L in money)."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from trading.desk._snapshots import headroom_view
from trading.errors import ConfigError
from trading.model import OrderSide, OrderStatus, RuleViolated, TradingState
from trading.risk import parse_risk_config

from ..conftest import Desk

WED = datetime(2026, 1, 7, 15, 0, tzinfo=UTC)  # 2026-01-06 (the start) is a Tuesday
THU = datetime(2026, 1, 8, 15, 0, tzinfo=UTC)


def gain(desk: Desk, amount: float, at: datetime | None = None) -> None:
    if at is not None:
        desk.clock.set_time(at)
        desk.rm.sweep()
    desk.tick("GME", 1000.0)
    desk.trade("GME", OrderSide.BUY, 1, 1000.0)
    desk.trade("GME", OrderSide.SELL, 1, round(1000.0 + amount, 2))


def fired(desk: Desk) -> list[str]:
    return [v.message for v in desk.of(RuleViolated) if v.rule == "consistency"]


def rule(desk: Desk):  # -> Consistency
    return desk.rm.engine.rules["consistency"]


@pytest.mark.parametrize(("today", "fires"), [(300.0, True), (299.99, False)], ids=["at", "a cent below"])
def test_consistency_profit_reaching_the_compliant_maximum_stops_new_entries(make_desk, today, fires):
    # 30% of the total: with 700 before today, 0.3 x 700 / 0.7 = 300 is the most today may make
    desk = make_desk({"consistency": {"max_day_percent": 30}})
    gain(desk, 700)
    gain(desk, today, at=WED)
    assert (len(fired(desk)) == 1) is fires
    assert desk.rm.state is (TradingState.REDUCING if fires else TradingState.ACTIVE)
    if fires:
        assert fired(desk)[0] == (
            "consistency: today's profit 300.00 >= 300.00, the most that keeps the best day within 30% "
            "of the total profit (700.00 before today): no new entries until the daily reset"
        )
        assert desk.order("GME", OrderSide.BUY, 1).status is OrderStatus.DENIED


@pytest.mark.parametrize(("today", "fires"), [(428.58, True), (428.57, False)])
def test_consistency_figure_not_a_whole_cent_is_exact(make_desk, today, fires):
    # 0.3 x 1000 / 0.7 = 428.571428...: the page shows 428.57, which is compliant; 428.58 is not
    desk = make_desk({"consistency": {"max_day_percent": 30}})
    gain(desk, 1000)
    desk.clock.set_time(WED)
    desk.rm.sweep()
    assert rule(desk).max_profit_today == Decimal("428.57")
    gain(desk, today)
    assert (len(fired(desk)) == 1) is fires


def test_consistency_headroom_and_snapshot_carry_the_figure(make_desk):
    desk = make_desk({"consistency": {"max_day_percent": 50}})
    gain(desk, 400)
    desk.clock.set_time(WED)
    desk.rm.sweep()
    gain(desk, 100)
    room = desk.rm.headroom()
    assert room.max_compliant_profit_today == 400.0
    assert headroom_view(room).max_compliant_profit_today == 400.0
    status = {s.rule: s for s in desk.rm.rule_status()}["consistency"]
    assert (status.value, status.limit) == (100.0, 400.0)
    assert status.detail == (
        "largest compliant profit today 400.00; today 100.00; best earlier day 400.00; before today 400.00"
    )


def test_consistency_headroom_without_the_rule_has_no_figure(make_desk):
    desk = make_desk({"daily_realized_loss": {"limit": 1000}})
    assert desk.rm.headroom().max_compliant_profit_today is None


def test_consistency_no_profit_before_today_leaves_the_day_alone(make_desk):
    desk = make_desk({"consistency": {"max_day_percent": 30}})
    gain(desk, 5000)
    assert fired(desk) == []
    assert rule(desk).max_profit_today == 0


def test_consistency_a_losing_history_counts_in_the_total(make_desk):
    desk = make_desk({"consistency": {"max_day_percent": 50}})
    gain(desk, 1000)
    gain(desk, -600, at=WED)  # 400 before Thursday: at most 400 on Thursday
    gain(desk, 400, at=THU)
    assert len(fired(desk)) == 1


def test_consistency_alert_action_does_not_lock(make_desk):
    desk = make_desk({"consistency": {"max_day_percent": 50, "action": "alert"}})
    gain(desk, 100)
    gain(desk, 100, at=WED)
    assert len(fired(desk)) == 1
    assert desk.rm.state is TradingState.ACTIVE


def test_consistency_next_day_rearms_with_the_new_total(make_desk):
    desk = make_desk({"consistency": {"max_day_percent": 50}})
    gain(desk, 100)
    gain(desk, 100, at=WED)
    assert desk.rm.state is TradingState.REDUCING
    desk.clock.set_time(THU)
    desk.rm.sweep()
    assert desk.rm.state is TradingState.ACTIVE
    assert rule(desk).max_profit_today == Decimal("200.00")


@pytest.mark.parametrize("how", ["restart", "crash"])
def test_consistency_restart_same_day_fires_nothing_again(books, how):
    book = books({"consistency": {"max_day_percent": 50}})
    desk = book.start()
    gain(desk, 100)
    gain(desk, 100, at=WED)
    again = book.restart() if how == "restart" else book.crash()
    again.rm.sweep()
    assert fired(again) == []
    assert again.rm.state is TradingState.REDUCING
    assert len([r for r in book.violation_rows() if r["rule"] == "consistency"]) == 1


def test_consistency_restart_takes_the_total_and_the_best_day_from_the_books(books):
    book = books({"consistency": {"max_day_percent": 50}})
    desk = book.start()
    gain(desk, 300)
    desk.clock.set_time(WED)
    again = book.restart()
    assert rule(again).max_profit_today == Decimal("300.00")
    assert rule(again).best_day == Decimal("300")


@pytest.mark.parametrize("percent", [0, 100, 150])
def test_consistency_config_refuses_a_share_outside_0_to_100(percent):
    with pytest.raises(ConfigError, match="field 'max_day_percent'"):
        parse_risk_config({"rules": {"consistency": {"max_day_percent": percent}}})
