from trading.clock import TestClock
from trading.risk import TimerManager


def test_timer_manager_timer_active_until_deadline_then_due():
    clock = TestClock()
    timers = TimerManager(clock)
    timers.start("grace:ES", 30, "no stop")
    clock.advance(29)
    assert timers.active("grace:ES") and timers.remaining("grace:ES") == 1.0
    assert timers.due() == []
    clock.advance(1)
    assert timers.due(prefix="grace:") == ["grace:ES"]
    assert not timers.active("grace:ES") and len(timers) == 0


def test_timer_manager_restart_extends_and_cancel_removes():
    clock = TestClock()
    timers = TimerManager(clock)
    timers.start("cooldown", 10)
    clock.advance(5)
    timers.start("cooldown", 10)
    clock.advance(9)
    assert timers.active("cooldown")
    assert timers.cancel("cooldown") and not timers.cancel("cooldown")
    assert "active=0" in repr(timers)
