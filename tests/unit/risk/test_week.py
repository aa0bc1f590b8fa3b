from datetime import date

import pytest

from trading.risk.week import WeeklyLatch, week_start


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
