"""Time comes from a ``Clock``.

``LiveClock`` reads the system clock; ``TestClock`` only moves when a test moves it,
and fires the timers that fall due on the way, so no test sleeps to wait for a timer.
All datetimes are timezone-aware UTC.
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "LiveClock", "ScaledClock", "TestClock"]


@runtime_checkable
class Clock(Protocol):
    """What every time-dependent component takes."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...

    def timestamp(self) -> float:
        """The current time as POSIX seconds."""
        ...

    def monotonic(self) -> float:
        """Seconds from an arbitrary origin that never goes backwards."""
        ...


class LiveClock:
    """The system clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def timestamp(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    def __repr__(self) -> str:
        return "LiveClock()"


class TestClock:
    """A clock that moves only when told to.

    ``set_time``/``advance`` move it forward and call, in time order, every callback
    registered with ``call_at`` that falls due on the way. It never goes backwards.
    """

    __test__ = False  # not a pytest test class

    def __init__(self, start: datetime | None = None) -> None:
        start = start or datetime(2026, 1, 5, 14, 30, tzinfo=UTC)
        if start.tzinfo is None:
            raise ValueError("TestClock needs a timezone-aware start time")
        self._now = start.astimezone(UTC)
        self._origin = self._now
        self._timers: list[tuple[datetime, int, Callable[[datetime], None]]] = []
        self._seq = itertools.count()

    def now(self) -> datetime:
        return self._now

    def timestamp(self) -> float:
        return self._now.timestamp()

    def monotonic(self) -> float:
        return (self._now - self._origin).total_seconds()

    def call_at(self, when: datetime, callback: Callable[[datetime], None]) -> None:
        """Run ``callback(when)`` once the clock reaches ``when``."""
        heapq.heappush(self._timers, (when.astimezone(UTC), next(self._seq), callback))

    def set_time(self, when: datetime) -> None:
        when = when.astimezone(UTC)
        if when < self._now:
            raise ValueError(f"TestClock cannot go backwards: {when.isoformat()} < {self._now.isoformat()}")
        while self._timers and self._timers[0][0] <= when:
            due, _, callback = heapq.heappop(self._timers)
            self._now = due
            callback(due)
        self._now = when

    def advance(self, seconds: float | timedelta) -> datetime:
        delta = seconds if isinstance(seconds, timedelta) else timedelta(seconds=seconds)
        self.set_time(self._now + delta)
        return self._now

    def __repr__(self) -> str:
        return f"TestClock(now={self._now.isoformat()}, timers={len(self._timers)})"


class ScaledClock:
    """Wall time sped up by ``speed`` from the moment it was made: a demo desk runs a
    simulated trading day in minutes. ``speed=1`` behaves like ``LiveClock``."""

    def __init__(self, speed: float = 1.0, *, start: datetime | None = None) -> None:
        if speed <= 0:
            raise ValueError(f"ScaledClock speed must be > 0, got {speed}")
        self.speed = speed
        self._origin_wall = (start or datetime.now(UTC)).astimezone(UTC)
        self._origin_mono = time.monotonic()

    def monotonic(self) -> float:
        return (time.monotonic() - self._origin_mono) * self.speed

    def now(self) -> datetime:
        return self._origin_wall + timedelta(seconds=self.monotonic())

    def timestamp(self) -> float:
        return self.now().timestamp()

    def __repr__(self) -> str:
        return f"ScaledClock(speed={self.speed:g}, now={self.now().isoformat()})"
