from datetime import UTC, date, datetime, time

from trading.clock import TestClock
from trading.risk import ResetScheduler


def test_reset_scheduler_next_reset_is_17_chicago_in_winter():
    clock = TestClock(datetime(2026, 1, 6, 15, 0, tzinfo=UTC))
    reset = ResetScheduler(clock, at=time(17, 0), timezone="America/Chicago")
    assert reset.next_reset == datetime(2026, 1, 6, 23, 0, tzinfo=UTC)  # CST = UTC-6


def test_reset_scheduler_across_spring_forward_stays_17_local():
    # DST starts Sunday 2026-03-08: Friday's reset is 23:00 UTC, Monday's 22:00 UTC.
    clock = TestClock(datetime(2026, 3, 6, 18, 0, tzinfo=UTC))
    reset = ResetScheduler(clock, at=time(17, 0), timezone="America/Chicago")
    assert reset.next_reset == datetime(2026, 3, 6, 23, 0, tzinfo=UTC)
    clock.set_time(datetime(2026, 3, 6, 23, 0, tzinfo=UTC))
    reset.roll(clock.now())
    assert reset.next_reset == datetime(2026, 3, 7, 23, 0, tzinfo=UTC)  # Saturday, still CST
    clock.set_time(datetime(2026, 3, 8, 12, 0, tzinfo=UTC))
    reset.roll(clock.now())
    assert reset.next_reset == datetime(2026, 3, 8, 22, 0, tzinfo=UTC)  # Sunday, CDT = UTC-5


def test_reset_scheduler_across_fall_back_stays_17_local():
    clock = TestClock(datetime(2026, 10, 31, 12, 0, tzinfo=UTC))
    reset = ResetScheduler(clock, at=time(17, 0), timezone="America/Chicago")
    assert reset.next_reset == datetime(2026, 10, 31, 22, 0, tzinfo=UTC)
    assert reset.reset_after(datetime(2026, 11, 1, 12, 0, tzinfo=UTC)) == datetime(
        2026, 11, 1, 23, 0, tzinfo=UTC
    )


def test_reset_scheduler_trading_day_rolls_at_the_reset():
    clock = TestClock(datetime(2026, 1, 6, 15, 0, tzinfo=UTC))
    reset = ResetScheduler(clock, at=time(17, 0), timezone="America/Chicago")
    assert reset.trading_day(datetime(2026, 1, 6, 22, 59, tzinfo=UTC)) == date(2026, 1, 6)
    assert reset.trading_day(datetime(2026, 1, 6, 23, 0, tzinfo=UTC)) == date(2026, 1, 7)
    assert reset.previous_reset(datetime(2026, 1, 6, 15, 0, tzinfo=UTC)) == datetime(
        2026, 1, 5, 23, 0, tzinfo=UTC
    )
