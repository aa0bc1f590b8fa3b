from datetime import UTC, datetime, timedelta

import pytest

from trading.clock import Clock, LiveClock, ScaledClock, TestClock


def test_clocks_satisfy_the_clock_protocol():
    assert isinstance(LiveClock(), Clock)
    assert isinstance(TestClock(), Clock)
    assert isinstance(ScaledClock(10), Clock)


def test_test_clock_advance_fires_due_timers_in_time_order():
    clock = TestClock(datetime(2026, 3, 1, 12, tzinfo=UTC))
    fired: list[tuple[str, datetime]] = []
    clock.call_at(clock.now() + timedelta(seconds=20), lambda t: fired.append(("b", t)))
    clock.call_at(clock.now() + timedelta(seconds=10), lambda t: fired.append(("a", t)))
    clock.call_at(clock.now() + timedelta(seconds=99), lambda t: fired.append(("late", t)))

    clock.advance(30)

    assert [name for name, _ in fired] == ["a", "b"]
    assert fired[0][1] == datetime(2026, 3, 1, 12, 0, 10, tzinfo=UTC)
    assert clock.now() == datetime(2026, 3, 1, 12, 0, 30, tzinfo=UTC)
    assert clock.monotonic() == 30.0


def test_test_clock_backwards_move_raises():
    clock = TestClock()
    with pytest.raises(ValueError, match="cannot go backwards"):
        clock.set_time(clock.now() - timedelta(seconds=1))


def test_test_clock_naive_start_raises():
    with pytest.raises(ValueError, match="timezone-aware"):
        TestClock(datetime(2026, 1, 1))


def test_scaled_clock_runs_faster_than_wall_time():
    clock = ScaledClock(1000.0)
    start = clock.monotonic()
    deadline = datetime.now(UTC) + timedelta(milliseconds=20)
    while datetime.now(UTC) < deadline:
        pass
    assert clock.monotonic() - start >= 10.0  # 20 ms of wall time is >= 10 s at 1000x
    assert clock.now().tzinfo is UTC


def test_scaled_clock_non_positive_speed_raises():
    with pytest.raises(ValueError, match="speed must be > 0"):
        ScaledClock(0)
