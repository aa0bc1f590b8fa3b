"""daily_realized_profit_target: today's realized profit reaches the target -> no new entries today."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from trading.config_types import Flag, Number
from trading.model import Event, PositionChanged, PositionClosed, PositionEvent, Severity
from trading.risk.actions import Action, plain_remedy
from trading.risk.loosening import Looser
from trading.risk.rules.base import Measure, Rule, RuleConfig, money
from trading.risk.types import Violation

__all__ = ["DailyRealizedProfitTarget", "DailyRealizedProfitTargetConfig"]


class DailyRealizedProfitTargetConfig(RuleConfig):
    kind: Literal["daily_realized_profit_target"] = "daily_realized_profit_target"
    target: Annotated[Number, Field(gt=0, description="realized profit in account currency"), Looser.HIGHER]
    include_commissions: Annotated[Flag, Looser.OFF] = True
    action: Annotated[Literal[Action.LOCK, Action.FLATTEN_AND_LOCK, Action.ALERT], Looser.MILDER] = (
        Action.LOCK
    )


class DailyRealizedProfitTarget(Rule):
    kind = "daily_realized_profit_target"
    config_type = DailyRealizedProfitTargetConfig
    config: DailyRealizedProfitTargetConfig

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._target = self.config.target
        self._reached = False
        self._remedy = plain_remedy(self.config.action)

    def handlers(self) -> dict[type[Event], Callable[[Any], Violation | None]]:
        return {PositionChanged: self.on_position, PositionClosed: self.on_position}

    def _profit(self) -> float:
        pnl = self.pnl
        return pnl.daily_realized - (pnl.daily_commissions if self.config.include_commissions else 0.0)

    def on_position(self, event: PositionEvent) -> Violation | None:
        if self._reached or self._profit() < self._target:
            return None
        return self._trip(event.ts)

    def sweep(self, now: datetime) -> list[Violation]:
        if self._reached or self._profit() < self._target:
            return []
        return [self._trip(now)]

    def _trip(self, ts: datetime) -> Violation:
        self._reached = True
        profit = self._profit()
        return self.violation(
            f"daily profit target reached: realized {money(profit)} >= {money(self._target)}",
            remedy=self._remedy,
            ts=ts,
            severity=Severity.INFO,
            daily_realized=profit,
            target=self._target,
        )

    def measure(self) -> Measure:
        profit = self._profit()
        return Measure(max(profit, 0.0), self._target, "$", f"realized today {money(profit)}", self._reached)

    def reset_daily(self) -> None:
        self._reached = False
