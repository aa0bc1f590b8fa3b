"""ResetScheduler: the daily reset at a local wall-clock time, correct across DST changes.

A futures trading day ends at 17:00 America/Chicago. The trading day a moment belongs to is
named by the local date of the reset that ends it: 16:59 CT on Monday is Monday, 17:00 is
Tuesday. Times are computed with ``zoneinfo`` on local dates, so the reset stays at 17:00
local whether that is 22:00 or 23:00 UTC.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from trading.clock import Clock

__all__ = ["ResetScheduler", "ResetStatistics"]

logger = logging.getLogger(__name__)


class ResetStatistics(NamedTuple):
    resets: int
    next_reset: datetime


class ResetScheduler:
    def __init__(self, clock: Clock, *, at: time, timezone: str) -> None:
        self._clock = clock
        self.at = at
        self.timezone = timezone
        self._tz = ZoneInfo(timezone)
        self.next_reset = self.reset_after(clock.now())
        self.resets = 0

    def reset_after(self, moment: datetime) -> datetime:
        """The first reset strictly after ``moment`` (UTC)."""
        local = moment.astimezone(self._tz)
        candidate = self._at_local(local.date())
        if candidate <= moment:
            candidate = self._at_local(local.date() + timedelta(days=1))
        return candidate

    def previous_reset(self, moment: datetime) -> datetime:
        """The last reset at or before ``moment`` (UTC)."""
        local = moment.astimezone(self._tz)
        candidate = self._at_local(local.date())
        if candidate > moment:
            candidate = self._at_local(local.date() - timedelta(days=1))
        return candidate

    def trading_day(self, moment: datetime) -> date:
        """The trading day ``moment`` belongs to: the local date of the reset that ends it."""
        return self.reset_after(moment).astimezone(self._tz).date()

    def due(self, now: datetime) -> bool:
        return now >= self.next_reset

    def roll(self, now: datetime) -> datetime:
        """Mark the reset as done; return the reset time that was passed."""
        passed = self.next_reset
        self.next_reset = self.reset_after(now)
        self.resets += 1
        logger.info("daily reset at %s; next at %s", passed.isoformat(), self.next_reset.isoformat())
        return passed

    def _at_local(self, day: date) -> datetime:
        return datetime.combine(day, self.at, tzinfo=self._tz).astimezone(UTC)

    def statistics(self) -> ResetStatistics:
        return ResetStatistics(resets=self.resets, next_reset=self.next_reset)

    def __repr__(self) -> str:
        return (
            f"ResetScheduler({self.at.strftime('%H:%M')} {self.timezone}, next={self.next_reset.isoformat()})"
        )
