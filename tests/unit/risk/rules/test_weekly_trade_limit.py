"""weekly_trade_limit on the paper broker and a TestClock: entries counted at their first fill."""

from datetime import UTC, datetime

import pytest

from trading.model import OrderSide, OrderStatus, RuleViolated, TradingState

from ..conftest import Desk

WED = datetime(2026, 1, 7, 15, 0, tzinfo=UTC)  # 2026-01-06 (the start) is a Tuesday
NEXT_MON = datetime(2026, 1, 12, 15, 0, tzinfo=UTC)


def round_trip(desk: Desk) -> None:
    desk.tick("GME", 100.0)
    desk.trade("GME", OrderSide.BUY, 1, 100.0)
    desk.broker.close_position("GME")  # an exit: not a trade
    desk.tick("GME", 100.0)


def fired(desk: Desk) -> list[str]:
    return [v.message for v in desk.of(RuleViolated) if v.rule == "weekly_trade_limit"]


def test_weekly_trade_limit_counts_entries_over_days_and_stops_at_the_maximum(make_desk):
    desk = make_desk({"weekly_trade_limit": {"max_trades": 3}})
    round_trip(desk)
    round_trip(desk)
    desk.clock.set_time(WED)
    desk.rm.sweep()
    round_trip(desk)
    assert fired(desk) == ["3 trades this week, max 3: no new entries until the week ends (2026-01-11)"]
    assert desk.rm.state is TradingState.REDUCING
    rule = desk.rm.engine.rules["weekly_trade_limit"]
    assert (rule.week_trades, rule.today) == (3, 1)


def test_weekly_trade_limit_below_the_maximum_does_nothing(make_desk):
    desk = make_desk({"weekly_trade_limit": {"max_trades": 3}})
    round_trip(desk)
    round_trip(desk)
    assert fired(desk) == []
    assert desk.order("GME", OrderSide.BUY, 1).status is not OrderStatus.DENIED


def test_weekly_trade_limit_denies_entries_on_later_days_and_resets_next_week(make_desk):
    desk = make_desk({"weekly_trade_limit": {"max_trades": 1}})
    round_trip(desk)
    desk.clock.set_time(WED)
    desk.tick("GME", 100.0)
    denied = desk.order("GME", OrderSide.BUY, 1)
    assert denied.status is OrderStatus.DENIED
    assert denied.reason == "1 trades this week, max 1: no new entries until the week ends"
    desk.rm.sweep()
    assert desk.rm.state is TradingState.REDUCING
    desk.clock.set_time(NEXT_MON)
    desk.rm.sweep()
    assert desk.rm.state is TradingState.ACTIVE
    assert desk.order("GME", OrderSide.BUY, 1).status is not OrderStatus.DENIED


@pytest.mark.parametrize(
    ("sunday", "new_week"),
    [(datetime(2026, 11, 1, 23, 30, tzinfo=UTC), True), (datetime(2026, 11, 1, 22, 30, tzinfo=UTC), False)],
    ids=["17:30 CST: Monday's trading day", "16:30 CST: still last week"],
)
def test_weekly_trade_limit_week_boundary_across_fall_dst(make_desk, clock, sunday, new_week):
    clock.set_time(datetime(2026, 10, 30, 15, 0, tzinfo=UTC))  # Friday
    desk = make_desk({"weekly_trade_limit": {"max_trades": 2}})
    round_trip(desk)
    desk.clock.set_time(sunday)
    desk.rm.sweep()
    round_trip(desk)
    assert (fired(desk) == []) is new_week


@pytest.mark.parametrize("how", ["restart", "crash"])
def test_weekly_trade_limit_restart_same_day_recounts_and_fires_nothing_again(books, how):
    book = books({"weekly_trade_limit": {"max_trades": 2}})
    desk = book.start()
    round_trip(desk)
    round_trip(desk)
    again = book.restart() if how == "restart" else book.crash()
    again.rm.sweep()
    assert fired(again) == []
    assert again.rm.state is TradingState.REDUCING
    assert again.rm.engine.rules["weekly_trade_limit"].week_trades == 2


def test_weekly_trade_limit_restart_mid_week_keeps_the_earlier_days(books):
    book = books({"weekly_trade_limit": {"max_trades": 3}})
    desk = book.start()
    round_trip(desk)
    round_trip(desk)
    desk.rm.sweep()  # the state is saved at every sweep
    desk.clock.set_time(WED)
    again = book.restart()
    again.rm.sweep()
    assert again.rm.engine.rules["weekly_trade_limit"].week_trades == 2
    round_trip(again)
    assert len(fired(again)) == 1


def test_weekly_trade_limit_crash_before_any_sweep_recounts_the_earlier_days_from_the_journal(books):
    """The saved state is behind the journal (no sweep ran since the trades): the journal wins."""
    book = books({"weekly_trade_limit": {"max_trades": 3}})
    desk = book.start()
    round_trip(desk)
    round_trip(desk)
    desk.clock.set_time(WED)
    again = book.crash()  # killed before a sweep saved Tuesday's count
    rule = again.rm.engine.rules["weekly_trade_limit"]
    assert (rule.week_trades, rule.today) == (2, 0)
    round_trip(again)
    assert fired(again) == ["3 trades this week, max 3: no new entries until the week ends (2026-01-11)"]


def test_weekly_trade_limit_restart_next_week_counts_nothing_of_the_last(books):
    book = books({"weekly_trade_limit": {"max_trades": 2}})
    desk = book.start()
    round_trip(desk)
    round_trip(desk)
    desk.clock.set_time(NEXT_MON)
    again = book.crash()
    again.rm.sweep()
    assert again.rm.engine.rules["weekly_trade_limit"].week_trades == 0
    assert again.rm.state is TradingState.ACTIVE
