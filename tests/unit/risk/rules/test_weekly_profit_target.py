"""weekly_profit_target on the paper broker and a TestClock (GME: a price move is the P&L)."""

from datetime import UTC, datetime

import pytest

from trading.model import OrderSide, OrderStatus, RuleViolated, TradingState

from ..conftest import Desk

WED = datetime(2026, 1, 7, 15, 0, tzinfo=UTC)  # 2026-01-06 (the start) is a Tuesday
NEXT_MON = datetime(2026, 1, 12, 15, 0, tzinfo=UTC)


def gain(desk: Desk, amount: float, at: datetime | None = None) -> None:
    if at is not None:
        desk.clock.set_time(at)
        desk.rm.sweep()
    desk.tick("GME", 1000.0)
    desk.trade("GME", OrderSide.BUY, 1, 1000.0)
    desk.trade("GME", OrderSide.SELL, 1, round(1000.0 + amount, 2))


def fired(desk: Desk) -> list[str]:
    return [v.message for v in desk.of(RuleViolated) if v.rule == "weekly_profit_target"]


@pytest.mark.parametrize(("second", "fires"), [(400.0, True), (399.99, False)], ids=["at", "a cent below"])
def test_weekly_profit_target_two_days_reaching_the_target_stop_new_entries(make_desk, second, fires):
    desk = make_desk({"weekly_profit_target": {"target": 1000}})
    gain(desk, 600)
    gain(desk, second, at=WED)
    assert (len(fired(desk)) == 1) is fires
    assert desk.rm.state is (TradingState.REDUCING if fires else TradingState.ACTIVE)
    if fires:
        assert fired(desk) == [
            "weekly profit target reached: realized 1,000.00 >= 1,000.00: "
            "no new entries until the week ends (2026-01-11)"
        ]


def test_weekly_profit_target_stays_reached_for_the_week_and_not_the_next(make_desk, clock):
    desk = make_desk({"weekly_profit_target": {"target": 500}})
    gain(desk, 500)
    desk.clock.set_time(WED)
    desk.tick("GME", 1000.0)
    assert desk.order("GME", OrderSide.BUY, 1).status is OrderStatus.DENIED
    desk.rm.sweep()
    assert desk.rm.state is TradingState.REDUCING
    desk.clock.set_time(NEXT_MON)
    desk.rm.sweep()
    assert desk.rm.state is TradingState.ACTIVE
    assert len(fired(desk)) == 2


@pytest.mark.parametrize(
    ("sunday", "new_week"),
    [(datetime(2026, 3, 8, 22, 30, tzinfo=UTC), True), (datetime(2026, 3, 8, 21, 30, tzinfo=UTC), False)],
    ids=["17:30 CDT: Monday's trading day", "16:30 CDT: still last week"],
)
def test_weekly_profit_target_week_boundary_across_spring_dst(make_desk, clock, sunday, new_week):
    clock.set_time(datetime(2026, 3, 6, 15, 0, tzinfo=UTC))  # Friday
    desk = make_desk({"weekly_profit_target": {"target": 1000}})
    gain(desk, 600)
    gain(desk, 400, at=sunday)
    assert (fired(desk) == []) is new_week


@pytest.mark.parametrize("how", ["restart", "crash"])
def test_weekly_profit_target_restart_same_day_fires_nothing_again(books, how):
    book = books({"weekly_profit_target": {"target": 500}})
    desk = book.start()
    gain(desk, 500)
    again = book.restart() if how == "restart" else book.crash()
    again.rm.sweep()
    assert fired(again) == []
    assert again.rm.state is TradingState.REDUCING
    assert len([r for r in book.violation_rows() if r["rule"] == "weekly_profit_target"]) == 1


def test_weekly_profit_target_restart_mid_week_counts_the_earlier_days_from_the_journal(books):
    book = books({"weekly_profit_target": {"target": 1000}})
    desk = book.start()
    gain(desk, 600)
    desk.clock.set_time(WED)
    again = book.restart()
    gain(again, 399.99)
    assert fired(again) == []
    gain(again, 0.01)
    assert len(fired(again)) == 1
