"""WeeklyLatch: a rule's finding that lasts until the trading week ends.

A trading day is named by the exchange-local date of the daily reset that ends it
(``ResetScheduler.trading_day``): the week boundary is in the exchange time zone and moves
with it across a DST change. With the 17:00 America/Chicago reset, Sunday 17:00 CT (22:00 UTC
in summer, 23:00 UTC in winter) opens Monday's trading day, the first of a week that starts
on Monday.

A lockout lasts until the daily reset (``LockoutManager``). A weekly rule therefore holds a
``WeeklyLatch``: it fires once in the week (``fire``), and on each later trading day of that
week its lockout is due again (``relock_due``, then ``relocked``); the next week clears it
(``new_day``). ``export``/``restore`` carry it across restarts: a latch of the current week
comes back on any day of it, and a lockout already re-issued today is not re-issued.

A weekly P&L rule holds a ``WeekBook``: the latch and the realized P&L of the week's finished
trading days, taken again from the P&L history at each daily reset, restore and recount.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Literal

from trading.model.money import ZERO
from trading.risk.pnl import DayPnL, PnLTracker

__all__ = ["WEEKDAYS", "WeekBook", "Weekday", "WeeklyLatch", "week_net", "week_start"]

WEEKDAYS: tuple[str, ...] = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


def week_start(day: date, first: str = "monday") -> date:
    """The first trading day of the week ``day`` belongs to (weeks start on ``first``)."""
    return day - timedelta(days=(day.weekday() - WEEKDAYS.index(first)) % 7)


def week_net(days: Iterable[DayPnL], start: date, before: date, *, net: bool) -> Decimal:
    """The realized P&L of the finished ``days`` from ``start`` up to (not including) ``before``:
    net of commissions when ``net``, gross otherwise (exact)."""
    total = ZERO
    for day in days:
        if start <= day.day < before:
            total += day.net if net else day.realized
    return total


class WeeklyLatch:
    """Fired once a week; its lockout re-issued on every later trading day of that week."""

    __slots__ = ("_first", "fired_on", "relocked_on", "week")

    def __init__(self, today: date, first: str = "monday") -> None:
        self._first = first
        self.week = week_start(today, first)  # the first trading day of the current week
        self.fired_on: date | None = None  # the trading day it fired (in ``week``)
        self.relocked_on: date | None = None  # the last trading day its lockout was issued

    @property
    def fired(self) -> bool:
        return self.fired_on is not None

    @property
    def week_end(self) -> date:
        """The last trading day of the current week."""
        return self.week + timedelta(days=6)

    def new_day(self, today: date) -> bool:
        """A new trading day; a new week clears the latch. True when the week changed."""
        start = week_start(today, self._first)
        if start == self.week:
            return False
        self.week, self.fired_on, self.relocked_on = start, None, None
        return True

    def fire(self, today: date) -> None:
        self.fired_on = self.relocked_on = today

    def relock_due(self, today: date) -> bool:
        """Fired this week, and its lockout not yet issued on ``today``."""
        return self.fired_on is not None and self.relocked_on != today

    def relocked(self, today: date) -> None:
        self.relocked_on = today

    def relock(self, today: date) -> str | None:
        """When its lockout is due again on ``today``: mark it issued and return the note for the
        re-issued violation; None when not due."""
        if not self.relock_due(today):
            return None
        self.relocked(today)
        return f"reached on {self.fired_on}, still in force"

    def tail(self, note: str, until: str) -> str:
        """A violation message's tail: ``note``, then ``until`` with the week's last trading day
        (each left out when empty)."""
        parts = (note, f"{until} ({self.week_end})" if until else "")
        joined = ", ".join(part for part in parts if part)
        return f": {joined}" if joined else ""

    def export(self) -> dict[str, Any]:
        return {
            "week": self.week.isoformat(),
            "fired_on": None if self.fired_on is None else self.fired_on.isoformat(),
            "relocked_on": None if self.relocked_on is None else self.relocked_on.isoformat(),
        }

    def restore(self, state: Mapping[str, Any], today: date) -> None:
        """Move to ``today``'s week, and take back an exported latch when it belongs to that week
        (any day of it)."""
        self.new_day(today)
        saved = state.get("week")
        if saved is None or date.fromisoformat(saved) != self.week:
            return
        fired, relocked = state.get("fired_on"), state.get("relocked_on")
        self.fired_on = None if fired is None else date.fromisoformat(fired)
        self.relocked_on = None if relocked is None else date.fromisoformat(relocked)

    def __repr__(self) -> str:
        return f"WeeklyLatch(week={self.week}, fired_on={self.fired_on}, relocked_on={self.relocked_on})"


class WeekBook:
    """A weekly P&L rule's week: its latch, and the realized P&L of the week's finished days.

    The figure before today is taken again from the P&L history (which a restart recounts from
    the journal) at each daily reset, restore and recount; today's part is read live.
    """

    __slots__ = ("_net", "_pnl", "before", "latch")

    def __init__(self, pnl: PnLTracker, first: str = "monday", *, net: bool) -> None:
        self._pnl = pnl
        self._net = net  # net of commissions, or gross
        self.latch = WeeklyLatch(pnl.trading_day, first)
        self.before = ZERO  # the realized P&L of this week's finished trading days
        self.recount()

    def realized(self) -> Decimal:
        """The week's realized P&L: its finished days plus today so far (exact)."""
        pnl = self._pnl
        return self.before + (pnl.daily_net if self._net else pnl.daily_realized)

    def recount(self) -> None:
        """Take this week's finished days again from the P&L history."""
        self.before = week_net(self._pnl.history(), self.latch.week, self._pnl.trading_day, net=self._net)

    def new_day(self) -> None:
        """The daily reset: a new week clears the latch; the finished days are taken again."""
        self.latch.new_day(self._pnl.trading_day)
        self.recount()

    def export(self) -> dict[str, Any]:
        return self.latch.export()

    def restore(self, state: Mapping[str, Any]) -> None:
        """The latch of the current week on any day of it (the week's P&L is the journal's)."""
        self.latch.restore(state, self._pnl.trading_day)
        self.recount()

    def __repr__(self) -> str:
        return f"WeekBook(before={self.before}, net={self._net}, latch={self.latch!r})"
