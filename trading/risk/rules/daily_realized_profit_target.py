"""daily_realized_profit_target: today's realized profit reaches the target -> no new entries today.

Exact: the profit and the target are ``Decimal``; a profit of exactly the target fires."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import Field

from trading.config_types import Flag
from trading.model import Event, PositionChanged, PositionClosed, PositionEvent, Severity
from trading.risk.actions import Action, plain_remedy
from trading.risk.amounts import Amount
from trading.risk.loosening import Looser
from trading.risk.rules.base import Measure, Rule, RuleConfig, money
from trading.risk.types import Violation

__all__ = ["DailyRealizedProfitTarget", "DailyRealizedProfitTargetConfig"]


class DailyRealizedProfitTargetConfig(RuleConfig):
    kind: Literal["daily_realized_profit_target"] = "daily_realized_profit_target"
    target: Annotated[Amount, Field(gt=0.0, description="realized profit in account currency"), Looser.HIGHER]
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

    def _profit(self) -> Decimal:
        pnl = self.pnl
        if self.config.include_commissions:
            return pnl.daily_realized - pnl.daily_commissions
        return pnl.daily_realized

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
        shown = float(max(profit, Decimal(0)))
        return Measure(shown, float(self._target), "$", f"realized today {money(profit)}", self._reached)

    def reset_daily(self) -> None:
        self._reached = False

    def export_state(self) -> dict[str, Any]:
        return {"reached": self._reached}

    def restore_state(self, state: Mapping[str, Any], *, same_day: bool) -> None:
        if same_day:
            self._reached = bool(state.get("reached", False))
