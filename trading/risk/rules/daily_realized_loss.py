"""daily_realized_loss: today's realized loss reaches the limit -> flatten and lock out until the reset."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from trading.config_types import Flag, Number
from trading.model import Event, PositionChanged, PositionClosed, PositionEvent
from trading.risk.actions import Action, plain_remedy
from trading.risk.loosening import Looser
from trading.risk.rules.base import Measure, Rule, RuleConfig, money
from trading.risk.types import Violation

__all__ = ["DailyRealizedLoss", "DailyRealizedLossConfig"]


class DailyRealizedLossConfig(RuleConfig):
    kind: Literal["daily_realized_loss"] = "daily_realized_loss"
    limit: Annotated[
        Number,
        Field(gt=0, description="loss in account currency, positive: 1000 means -1,000.00"),
        Looser.HIGHER,
    ]
    include_commissions: Annotated[Flag, Looser.OFF] = True
    action: Annotated[
        Literal[Action.FLATTEN_AND_LOCK, Action.FLATTEN, Action.LOCK, Action.ALERT], Looser.MILDER
    ] = Action.FLATTEN_AND_LOCK


class DailyRealizedLoss(Rule):
    kind = "daily_realized_loss"
    config_type = DailyRealizedLossConfig
    config: DailyRealizedLossConfig

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._limit = self.config.limit
        self._net = self.config.include_commissions
        self._tripped = False
        self._remedy = plain_remedy(self.config.action)

    def handlers(self) -> dict[type[Event], Callable[[Any], Violation | None]]:
        return {PositionChanged: self.on_position, PositionClosed: self.on_position}

    def _loss(self) -> float:
        pnl = self.pnl
        return -(pnl.daily_realized - pnl.daily_commissions) if self._net else -pnl.daily_realized

    def on_position(self, event: PositionEvent) -> Violation | None:
        if self._tripped:
            return None
        loss = self._loss()
        if loss < self._limit:
            return None
        return self._trip(event.ts, loss, event.symbol)

    def sweep(self, now: datetime) -> list[Violation]:
        if self._tripped or self._loss() < self._limit:
            return []
        return [self._trip(now, self._loss(), None)]

    def _trip(self, ts: datetime, loss: float, symbol: str | None) -> Violation:
        self._tripped = True
        return self.violation(
            f"daily realized loss {money(-loss)} <= {money(-self._limit)}",
            remedy=self._remedy,
            ts=ts,
            symbol=symbol,
            daily_realized=-loss,
            limit=-self._limit,
        )

    def measure(self) -> Measure:
        loss = self._loss()
        return Measure(max(loss, 0.0), self._limit, "$", f"realized today {money(-loss)}", self._tripped)

    def reset_daily(self) -> None:
        self._tripped = False
