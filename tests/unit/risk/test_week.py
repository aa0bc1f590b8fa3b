from datetime import date
from decimal import Decimal

import pytest

from trading.risk import PnLTracker
from trading.risk.week import WeekBook, WeeklyLatch, week_start


@pytest.mark.parametrize(
    ("day", "first", "start"),
    [
        (date(2026, 1, 5), "monday", date(2026, 1, 5)),
        (date(2026, 1, 11), "monday", date(2026, 1, 5)),
        (date(2026, 1, 12), "monday", date(2026, 1, 12)),
        (date(2026, 1, 10), "sunday", date(2026, 1, 4)),
        (date(2026, 1, 11), "sunday", date(2026, 1, 11)),
    ],
)
def test_week_start_first_day_of_the_week(day, first, start):
    assert week_start(day, first) == start


def test_weekly_latch_fires_once_relocks_each_later_day_and_clears_next_week():
    latch = WeeklyLatch(date(2026, 1, 6))
    latch.fire(date(2026, 1, 6))
    assert not latch.relock_due(date(2026, 1, 6))
    assert not latch.new_day(date(2026, 1, 7))
    assert latch.relock_due(date(2026, 1, 7))
    latch.relocked(date(2026, 1, 7))
    assert not latch.relock_due(date(2026, 1, 7))
    assert latch.new_day(date(2026, 1, 12))
    assert not latch.fired


def test_weekly_latch_restore_takes_only_the_current_week():
    old = WeeklyLatch(date(2026, 1, 6))
    old.fire(date(2026, 1, 6))
    same_week = WeeklyLatch(date(2026, 1, 9))
    same_week.restore(old.export(), date(2026, 1, 9))
    assert same_week.fired_on == date(2026, 1, 6)
    next_week = WeeklyLatch(date(2026, 1, 13))
    next_week.restore(old.export(), date(2026, 1, 13))
    assert not next_week.fired


def test_weekly_latch_relock_marks_the_day_once_and_tail_names_the_week_end():
    latch = WeeklyLatch(date(2026, 1, 6))
    assert latch.relock(date(2026, 1, 7)) is None
    latch.fire(date(2026, 1, 6))
    assert latch.relock(date(2026, 1, 7)) == "reached on 2026-01-06, still in force"
    assert latch.relock(date(2026, 1, 7)) is None
    assert latch.tail("note", "until the week ends") == ": note, until the week ends (2026-01-11)"
    assert latch.tail("", "") == ""


def test_week_book_realized_adds_finished_days_to_today_and_clears_next_week():
    pnl = PnLTracker(cash=100_000.0, trading_day=date(2026, 1, 6))
    net, gross = WeekBook(pnl, net=True), WeekBook(pnl, net=False)
    pnl.daily_realized, pnl.daily_commissions = Decimal("-100"), Decimal("4")
    pnl.reset_day(date(2026, 1, 7))
    net.new_day()
    gross.new_day()
    pnl.daily_realized = Decimal("-50")
    assert (net.before, net.realized()) == (Decimal("-104"), Decimal("-154"))
    assert gross.realized() == Decimal("-150")
    net.latch.fire(date(2026, 1, 7))
    pnl.reset_day(date(2026, 1, 12))
    net.new_day()
    assert net.before == 0 and not net.latch.fired
