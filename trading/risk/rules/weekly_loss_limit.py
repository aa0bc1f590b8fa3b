"""weekly_loss_limit: the week's realized loss reaches the limit -> flatten and lock out until the
week ends.

The week's loss is the realized P&L of this week's finished trading days (the P&L history, which
a restart recounts from the journal's fills) plus today's, net of commissions unless configured
gross. Exact (``Decimal``): a loss of exactly the limit fires. The week boundary is the exchange
time zone's (``trading.risk.week``). The lockout lasts until the daily reset, so on each later
trading day of the week the rule issues it again (at the first sweep; until then its pre-trade
check denies new entries), and the next week starts afresh.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field

from trading.config_types import Flag
from trading.model import Event, Order, PositionChanged, PositionClosed, PositionEvent
from trading.risk.actions import Action, plain_remedy
from trading.risk.amounts import Amount
from trading.risk.loosening import Looser
from trading.risk.rules.base import Measure, Rule, RuleConfig, money
from trading.risk.types import RecountFills, Violation
from trading.risk.week import WeekBook, Weekday

__all__ = ["WeeklyLossLimit", "WeeklyLossLimitConfig"]


class WeeklyLossLimitConfig(RuleConfig):
    kind: Literal["weekly_loss_limit"] = "weekly_loss_limit"
    limit: Annotated[
        Amount,
        Field(gt=0.0, description="the week's realized loss in account currency, positive"),
        Looser.HIGHER,
    ]
    include_commissions: Annotated[Flag, Looser.OFF] = True
    week_starts: Annotated[Weekday, Looser.ANY] = "monday"
    action: Annotated[
        Literal[Action.FLATTEN_AND_LOCK, Action.FLATTEN, Action.LOCK, Action.ALERT], Looser.MILDER
    ] = Action.FLATTEN_AND_LOCK


class WeeklyLossLimit(Rule):
    kind = "weekly_loss_limit"
    config_type = WeeklyLossLimitConfig
    config: WeeklyLossLimitConfig
    checks_orders = True
    loss_lockout: ClassVar[bool] = True  # its lockout is a loss rule's (a manual unlock policy applies)

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        cfg = self.config
        self._limit = cfg.limit
        self._remedy = plain_remedy(cfg.action)
        self._locks = cfg.action.lockout is not None
        self._week = WeekBook(self.pnl, cfg.week_starts, net=cfg.include_commissions)
        self._latch = self._week.latch

    def _loss(self) -> Decimal:
        return -self._week.realized()

    def handlers(self) -> dict[type[Event], Callable[[Any], Violation | None]]:
        return {PositionChanged: self.on_position, PositionClosed: self.on_position}

    def on_position(self, event: PositionEvent) -> Violation | None:
        if self._latch.fired:
            return None
        loss = self._loss()
        if loss < self._limit:
            return None
        return self._trip(event.ts, loss, event.symbol)

    def check(self, order: Order, reducing: bool, now: datetime) -> str | None:
        if reducing or not self._locks or not self._latch.fired:
            return None
        return f"weekly loss limit reached on {self._latch.fired_on}: no new entries until the week ends"

    def sweep(self, now: datetime) -> list[Violation]:
        if self._latch.fired:
            note = self._latch.relock(self.pnl.trading_day) if self._locks else None
            return [] if note is None else [self._violation(now, self._loss(), None, note)]
        loss = self._loss()
        return [] if loss < self._limit else [self._trip(now, loss, None)]

    def _trip(self, ts: datetime, loss: Decimal, symbol: str | None) -> Violation:
        self._latch.fire(self.pnl.trading_day)
        return self._violation(ts, loss, symbol, "")

    def _violation(self, ts: datetime, loss: Decimal, symbol: str | None, note: str) -> Violation:
        latch = self._latch
        tail = latch.tail(note, "until the week ends" if self._locks else "")
        return self.violation(
            f"weekly realized loss {money(-loss)} <= {money(-self._limit)}" + tail,
            remedy=self._remedy,
            ts=ts,
            symbol=symbol,
            weekly_realized=-loss,
            limit=-self._limit,
            week=latch.week.isoformat(),
        )

    def measure(self) -> Measure:
        loss = self._loss()
        shown = float(max(loss, Decimal(0)))
        detail = f"realized this week {money(-loss)} (since {self._latch.week})"
        return Measure(shown, float(self._limit), "$", detail, self._latch.fired)

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
