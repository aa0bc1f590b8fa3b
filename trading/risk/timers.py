"""TimerManager: named deadlines (cooldowns, grace timers) read from the injected Clock.

Timers are polled, not scheduled: ``active(key, now)`` and ``due(now)`` compare against the
clock, so they work the same with ``LiveClock`` and ``TestClock`` and never need a thread.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import NamedTuple

from trading.clock import Clock

__all__ = ["TimerManager", "TimerStatistics"]

logger = logging.getLogger(__name__)


class TimerStatistics(NamedTuple):
    active: int
    started: int
    fired: int


class TimerManager:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._deadlines: dict[str, datetime] = {}
        self._reasons: dict[str, str] = {}
        self.started = 0
        self.fired = 0

    def start(self, key: str, seconds: float, reason: str = "") -> datetime:
        """Start (or restart) timer ``key`` running ``seconds`` from now; return its deadline."""
        deadline = self._clock.now() + timedelta(seconds=seconds)
        self._deadlines[key] = deadline
        self._reasons[key] = reason
        self.started += 1
        logger.debug("timer %s started until %s (%s)", key, deadline.isoformat(), reason)
        return deadline

    def set(self, key: str, deadline: datetime, reason: str = "") -> None:
        """Run timer ``key`` until ``deadline`` (a timer taken back after a restart)."""
        self._deadlines[key] = deadline
        self._reasons[key] = reason

    def cancel(self, key: str) -> bool:
        self._reasons.pop(key, None)
        return self._deadlines.pop(key, None) is not None

    def deadline(self, key: str) -> datetime | None:
        return self._deadlines.get(key)

    def deadlines(self, prefix: str = "") -> dict[str, datetime]:
        """The running timers whose key starts with ``prefix``: key -> deadline."""
        return {k: d for k, d in self._deadlines.items() if k.startswith(prefix)}

    def reason(self, key: str) -> str:
        return self._reasons.get(key, "")

    def active(self, key: str, now: datetime | None = None) -> bool:
        """True while ``key`` runs; an expired timer is dropped on the way."""
        deadline = self._deadlines.get(key)
        if deadline is None:
            return False
        if (now or self._clock.now()) < deadline:
            return True
        self.cancel(key)
        return False

    def remaining(self, key: str, now: datetime | None = None) -> float:
        deadline = self._deadlines.get(key)
        if deadline is None:
            return 0.0
        return max(0.0, (deadline - (now or self._clock.now())).total_seconds())

    def due(self, now: datetime | None = None, prefix: str = "") -> list[str]:
        """Remove and return the keys (starting with ``prefix``) whose deadline has passed."""
        now = now or self._clock.now()
        fired = [k for k, d in self._deadlines.items() if d <= now and k.startswith(prefix)]
        for key in fired:
            self.cancel(key)
        self.fired += len(fired)
        return fired

    def clear(self, prefix: str = "") -> None:
        for key in [k for k in self._deadlines if k.startswith(prefix)]:
            self.cancel(key)

    def __len__(self) -> int:
        return len(self._deadlines)

    def statistics(self) -> TimerStatistics:
        return TimerStatistics(active=len(self._deadlines), started=self.started, fired=self.fired)

    def __repr__(self) -> str:
        return f"TimerManager(active={len(self._deadlines)}, started={self.started}, fired={self.fired})"
