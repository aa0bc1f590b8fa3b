"""weekly_profit_target: the week's realized profit reaches the target -> no new entries until the
week ends.

The week's profit is the realized P&L of this week's finished trading days (the P&L history,
recounted from the journal's fills after a restart) plus today's, net of commissions unless
configured gross. Exact (``Decimal``): a profit of exactly the target fires. The week boundary
is the exchange time zone's (``trading.risk.week``); the lockout is issued again on each later
trading day of the week (at the first sweep; until then the pre-trade check denies entries).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import Field

from trading.config_types import Flag
from trading.model import Event, Order, PositionChanged, PositionClosed, PositionEvent, Severity
from trading.risk.actions import Action, plain_remedy
from trading.risk.amounts import Amount
from trading.risk.loosening import Looser
from trading.risk.rules.base import Measure, Rule, RuleConfig, money
from trading.risk.types import RecountFills, Violation
from trading.risk.week import WeekBook, Weekday

__all__ = ["WeeklyProfitTarget", "WeeklyProfitTargetConfig"]


class WeeklyProfitTargetConfig(RuleConfig):
    kind: Literal["weekly_profit_target"] = "weekly_profit_target"
    target: Annotated[
        Amount, Field(gt=0.0, description="the week's realized profit in account currency"), Looser.HIGHER
    ]
    include_commissions: Annotated[Flag, Looser.OFF] = True
    week_starts: Annotated[Weekday, Looser.ANY] = "monday"
    action: Annotated[Literal[Action.LOCK, Action.FLATTEN_AND_LOCK, Action.ALERT], Looser.MILDER] = (
        Action.LOCK
    )


class WeeklyProfitTarget(Rule):
    kind = "weekly_profit_target"
    config_type = WeeklyProfitTargetConfig
    config: WeeklyProfitTargetConfig
    checks_orders = True

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        cfg = self.config
        self._target = cfg.target
        self._remedy = plain_remedy(cfg.action)
        self._locks = cfg.action.lockout is not None
        self._week = WeekBook(self.pnl, cfg.week_starts, net=cfg.include_commissions)
        self._latch = self._week.latch

    def _profit(self) -> Decimal:
        return self._week.realized()

    def handlers(self) -> dict[type[Event], Callable[[Any], Violation | None]]:
        return {PositionChanged: self.on_position, PositionClosed: self.on_position}

    def on_position(self, event: PositionEvent) -> Violation | None:
        if self._latch.fired:
            return None
        profit = self._profit()
        return None if profit < self._target else self._trip(event.ts, profit)

    def check(self, order: Order, reducing: bool, now: datetime) -> str | None:
        if reducing or not self._locks or not self._latch.fired:
            return None
        return f"weekly profit target reached on {self._latch.fired_on}: no new entries until the week ends"

    def sweep(self, now: datetime) -> list[Violation]:
        if self._latch.fired:
            note = self._latch.relock(self.pnl.trading_day) if self._locks else None
            return [] if note is None else [self._violation(now, self._profit(), note)]
        profit = self._profit()
        return [] if profit < self._target else [self._trip(now, profit)]

    def _trip(self, ts: datetime, profit: Decimal) -> Violation:
        self._latch.fire(self.pnl.trading_day)
        return self._violation(ts, profit, "")

    def _violation(self, ts: datetime, profit: Decimal, note: str) -> Violation:
        latch = self._latch
        tail = latch.tail(note, "no new entries until the week ends" if self._locks else "")
        return self.violation(
            f"weekly profit target reached: realized {money(profit)} >= {money(self._target)}" + tail,
            remedy=self._remedy,
            ts=ts,
            severity=Severity.INFO,
            weekly_realized=profit,
            target=self._target,
            week=latch.week.isoformat(),
        )

    def measure(self) -> Measure:
        profit = self._profit()
        shown = float(max(profit, Decimal(0)))
        detail = f"realized this week {money(profit)} (since {self._latch.week})"
        return Measure(shown, float(self._target), "$", detail, self._latch.fired)

    def reset_daily(self) -> None:
        self._week.new_day()

    def export_state(self) -> dict[str, Any]:
        return self._week.export()

    def restore_state(self, state: Mapping[str, Any], *, same_day: bool) -> None:
        """The latch of the current week on any day of it (the week's P&L is the journal's)."""
        self._week.restore(state)

    def recount(self, fills: RecountFills, now: datetime) -> None:
        """The P&L history was recounted from the journal: take this week's finished days again."""
        del fills, now
        self._week.recount()
