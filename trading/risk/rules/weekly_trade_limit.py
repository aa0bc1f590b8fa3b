"""weekly_trade_limit: trades this week reach the maximum -> no new entries until the week ends.

A trade is an entry order that fills, counted at its first fill (as ``trade_frequency_limit``
counts them); exits, stops, targets and risk closes do not count. The week boundary is the
exchange time zone's (``trading.risk.week``). The pre-trade check denies a new entry once the
week's count has reached the maximum; the lockout is issued again on each later trading day of
the week (at the first sweep).

Across a restart the week's counts come from the journal (``recount``: the entry fills of today
and of this week's finished days), never from the saved state, which may be behind it; the
saved state keeps the latch, and the counts only for a desk without a journal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from trading.config_types import Whole
from trading.model import Event, FillRecord, Order, OrderFilled, OrderRole, Severity
from trading.risk.actions import Action, plain_remedy
from trading.risk.loosening import Looser
from trading.risk.rules.base import Measure, Rule, RuleConfig
from trading.risk.types import RecountFills, Violation
from trading.risk.week import Weekday, WeeklyLatch

__all__ = ["WeeklyTradeLimit", "WeeklyTradeLimitConfig"]


class WeeklyTradeLimitConfig(RuleConfig):
    kind: Literal["weekly_trade_limit"] = "weekly_trade_limit"
    max_trades: Annotated[Whole, Field(gt=0, description="entries that fill in one week"), Looser.HIGHER]
    week_starts: Annotated[Weekday, Looser.ANY] = "monday"
    action: Annotated[Literal[Action.LOCK, Action.ALERT], Looser.MILDER] = Action.LOCK


class WeeklyTradeLimit(Rule):
    kind = "weekly_trade_limit"
    config_type = WeeklyTradeLimitConfig
    config: WeeklyTradeLimitConfig
    checks_orders = True

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        cfg = self.config
        self._max = cfg.max_trades
        self._remedy = plain_remedy(cfg.action)
        self._locks = cfg.action.lockout is not None
        self._day = self.pnl.trading_day
        self._latch = WeeklyLatch(self._day, cfg.week_starts)
        self._earlier: dict[date, int] = {}  # this week's finished trading days -> trades
        self.today = 0

    @property
    def week_trades(self) -> int:
        return sum(self._earlier.values()) + self.today

    def handlers(self) -> dict[type[Event], Callable[[Any], Violation | None]]:
        return {OrderFilled: self.on_fill}

    def on_fill(self, event: OrderFilled) -> Violation | None:
        if event.role is not OrderRole.ENTRY or event.filled_quantity - event.quantity > 1e-9:
            return None  # exits (stops, targets, risk closes) and later fills of a counted order
        self.today += 1
        if self._latch.fired or self.week_trades < self._max:
            return None
        return self._trip(event.ts)

    def check(self, order: Order, reducing: bool, now: datetime) -> str | None:
        if reducing or not self._locks or self.week_trades < self._max:
            return None
        return f"{self.week_trades} trades this week, max {self._max}: no new entries until the week ends"

    def sweep(self, now: datetime) -> list[Violation]:
        if self._latch.fired:
            note = self._latch.relock(self.pnl.trading_day) if self._locks else None
            return [] if note is None else [self._violation(now, note)]
        return [] if self.week_trades < self._max else [self._trip(now)]

    def _trip(self, ts: datetime) -> Violation:
        self._latch.fire(self.pnl.trading_day)
        return self._violation(ts, "")

    def _violation(self, ts: datetime, note: str) -> Violation:
        latch = self._latch
        tail = latch.tail(note, "no new entries until the week ends" if self._locks else "")
        return self.violation(
            f"{self.week_trades} trades this week, max {self._max}" + tail,
            remedy=self._remedy,
            ts=ts,
            severity=Severity.WARNING,
            trades=self.week_trades,
            limit=self._max,
            week=latch.week.isoformat(),
        )

    def measure(self) -> Measure:
        detail = f"{self.week_trades} this week (since {self._latch.week}), {self.today} today"
        return Measure(self.week_trades, self._max, "trades", detail, self._latch.fired)

    def reset_daily(self) -> None:
        self._roll(self.pnl.trading_day)

    def _roll(self, today: date) -> None:
        """Close the count of the day that ended into the week's; a new week starts at zero."""
        if today == self._day:
            return
        if self.today:
            self._earlier[self._day] = self._earlier.get(self._day, 0) + self.today
        self._day, self.today = today, 0
        self._latch.new_day(today)
        week = self._latch.week
        self._earlier = {day: n for day, n in self._earlier.items() if week <= day < today}

    def export_state(self) -> dict[str, Any]:
        days = {day.isoformat(): n for day, n in self._earlier.items()}
        return {**self._latch.export(), "day": self._day.isoformat(), "today": self.today, "days": days}

    def restore_state(self, state: Mapping[str, Any], *, same_day: bool) -> None:
        """The latch and the finished days' counts of the current week; today's count only on the
        same day (``recount`` then replaces it with the journal's)."""
        today = self.pnl.trading_day
        self._latch.restore(state, today)
        week = self._latch.week
        days = {date.fromisoformat(d): int(n) for d, n in dict(state.get("days", {})).items()}
        saved_day = state.get("day")
        if saved_day is not None and not same_day:  # the saved "today" is a finished day now
            day = date.fromisoformat(saved_day)
            days[day] = days.get(day, 0) + int(state.get("today", 0))
        self._earlier = {day: n for day, n in days.items() if week <= day < today}
        self._day = today
        self.today = int(state.get("today", 0)) if same_day else 0

    def recount(self, fills: RecountFills, now: datetime) -> None:
        """This week's trades from the journal, replacing the saved counts: each entry order
        counted on the trading day of its first fill (an order filled across a reset counts once)."""
        del now
        week, today = self._latch.week, self.pnl.trading_day
        seen: set[str] = set()
        earlier: dict[date, int] = {}
        for day, day_fills in fills.finished.items():
            trades = _first_entry_fills(day_fills, seen)
            if trades and week <= day < today:
                earlier[day] = trades
        self._earlier = earlier
        self.today = _first_entry_fills(fills.today, seen)


def _first_entry_fills(fills: Iterable[FillRecord], seen: set[str]) -> int:
    """How many of ``fills`` are the first fill of an entry order not in ``seen`` (which grows)."""
    count = 0
    for fill in fills:
        if fill.role is OrderRole.ENTRY and fill.order_id not in seen:
            seen.add(fill.order_id)
            count += 1
    return count
