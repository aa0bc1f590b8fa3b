"""consistency: no single trading day may make more than ``max_day_percent`` % of the total profit.

With ``p`` the share (``max_day_percent / 100``), ``P`` the realized profit before today (the
account's total since its start, less today's) and ``t`` today's realized profit, today stays
compliant while ``t <= p * (P + t)``, that is ``t <= p * P / (1 - p)``: ``max_profit_today``,
which the Risk page shows. When today's profit reaches it (exactly: ``t * (1 - p) >= p * P``,
computed in ``Decimal`` without a division, so a profit of exactly the figure fires) the rule
acts once for the day: ``lock`` stops new entries until the daily reset, ``alert`` only says so.

The rule acts only when the profit before today is positive: with none, any profit today would
be the whole total (a first day of profit is never compliant on its own), so it leaves the day
alone and its figure is 0. The best finished day (``best_day``) is shown beside it.
Realized P&L only, net of commissions unless configured gross; the money comes from the broker's
books and today's counters, which a restart recounts from the journal.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import ROUND_DOWN, Decimal
from typing import Annotated, Any, Literal

from pydantic import Field

from trading.config_types import Flag, Number
from trading.model import Event, PositionChanged, PositionClosed, PositionEvent, Severity
from trading.model.money import ZERO, to_money
from trading.risk.actions import Action, plain_remedy
from trading.risk.loosening import Looser
from trading.risk.rules.base import Measure, Rule, RuleConfig, money
from trading.risk.types import RecountFills, Violation

__all__ = ["Consistency", "ConsistencyConfig"]

_HUNDRED = Decimal(100)
_CENT = Decimal("0.01")


class ConsistencyConfig(RuleConfig):
    kind: Literal["consistency"] = "consistency"
    max_day_percent: Annotated[
        Number,
        Field(gt=0, lt=100, description="the best day's largest share of the total profit, in percent"),
        Looser.HIGHER,
    ]
    include_commissions: Annotated[Flag, Looser.OFF] = True
    action: Annotated[Literal[Action.LOCK, Action.ALERT], Looser.MILDER] = Action.LOCK


class Consistency(Rule):
    kind = "consistency"
    config_type = ConsistencyConfig
    config: ConsistencyConfig

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        cfg = self.config
        self._pct = to_money(cfg.max_day_percent)  # exact: 30 -> Decimal('30')
        self._net = cfg.include_commissions
        self._remedy = plain_remedy(cfg.action)
        self._reached = False
        self.best_day = self._best_finished_day()

    # --- the money -----------------------------------------------------------------

    def today_profit(self) -> Decimal:
        pnl = self.pnl
        return pnl.daily_realized - pnl.daily_commissions if self._net else pnl.daily_realized

    def profit_before_today(self) -> Decimal:
        pnl = self.pnl
        total = pnl.total_realized - pnl.total_commissions if self._net else pnl.total_realized
        return total - self.today_profit()

    @property
    def max_profit_today(self) -> Decimal:
        """The largest profit still compliant today, ``p * P / (1 - p)``, rounded down to the cent
        (0 when there is no profit before today)."""
        before = self.profit_before_today()
        if before <= ZERO:
            return ZERO
        return (self._pct * before / (_HUNDRED - self._pct)).quantize(_CENT, rounding=ROUND_DOWN)

    def _reached_now(self) -> bool:
        """Today's profit at or past the compliant maximum (exact), with profit before today."""
        before = self.profit_before_today()
        if before <= ZERO:
            return False
        return self.today_profit() * (_HUNDRED - self._pct) >= self._pct * before

    def _best_finished_day(self) -> Decimal:
        today = self.pnl.trading_day
        days = [d.net if self._net else d.realized for d in self.pnl.history() if d.day < today]
        return max(days, default=ZERO)

    # --- events --------------------------------------------------------------------

    def handlers(self) -> dict[type[Event], Callable[[Any], Violation | None]]:
        return {PositionChanged: self.on_position, PositionClosed: self.on_position}

    def on_position(self, event: PositionEvent) -> Violation | None:
        if self._reached or not self._reached_now():
            return None
        return self._trip(event.ts)

    def sweep(self, now: datetime) -> list[Violation]:
        if self._reached or not self._reached_now():
            return []
        return [self._trip(now)]

    def _trip(self, ts: datetime) -> Violation:
        self._reached = True
        today, before = self.today_profit(), self.profit_before_today()
        then = ": no new entries until the daily reset" if self.config.action is Action.LOCK else ""
        return self.violation(
            f"consistency: today's profit {money(today)} >= {money(self.max_profit_today)}, the most "
            f"that keeps the best day within {self.config.max_day_percent:g}% of the total profit "
            f"({money(before)} before today){then}",
            remedy=self._remedy,
            ts=ts,
            severity=Severity.WARNING,
            today=today,
            max_profit_today=self.max_profit_today,
            profit_before_today=before,
        )

    def measure(self) -> Measure:
        today = self.today_profit()
        figure = self.max_profit_today
        detail = (
            f"largest compliant profit today {money(figure)}; today {money(today)}; "
            f"best earlier day {money(self.best_day)}; before today {money(self.profit_before_today())}"
        )
        return Measure(float(max(today, ZERO)), float(figure), "$", detail, self._reached)

    # --- days and restarts -------------------------------------------------------------

    def reset_daily(self) -> None:
        self._reached = False
        self.best_day = self._best_finished_day()

    def export_state(self) -> dict[str, Any]:
        return {"reached": self._reached, "best_day": str(self.best_day)}

    def restore_state(self, state: Mapping[str, Any], *, same_day: bool) -> None:
        """Today's latch on the same day; the best day is the larger of the saved one and the
        journal's finished days."""
        saved = state.get("best_day")
        self.best_day = max(self._best_finished_day(), ZERO if saved is None else to_money(saved))
        if same_day:
            self._reached = bool(state.get("reached", False))

    def recount(self, fills: RecountFills, now: datetime) -> None:
        del fills, now
        self.best_day = max(self.best_day, self._best_finished_day())
