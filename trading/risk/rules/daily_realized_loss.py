"""daily_realized_loss: today's realized loss reaches the limit -> flatten and lock out until the reset.

Exact: the loss (realized P&L, net of commissions unless configured gross) and the limit are
``Decimal``, so a loss of exactly the limit fires."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field

from trading.config_types import Flag
from trading.model import Event, PositionChanged, PositionClosed, PositionEvent
from trading.risk.actions import Action, plain_remedy
from trading.risk.amounts import Amount
from trading.risk.loosening import Looser
from trading.risk.rules.base import Measure, Rule, RuleConfig, money
from trading.risk.types import Violation

__all__ = ["DailyRealizedLoss", "DailyRealizedLossConfig"]


class DailyRealizedLossConfig(RuleConfig):
    kind: Literal["daily_realized_loss"] = "daily_realized_loss"
    limit: Annotated[
        Amount,
        Field(gt=0.0, description="loss in account currency, positive: 1000 means -1,000.00"),
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
    loss_lockout: ClassVar[bool] = True  # its lockout is a loss lockout (the unlock policy reads this)

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._limit = self.config.limit
        self._net = self.config.include_commissions
        self._tripped = False
        self._remedy = plain_remedy(self.config.action)

    def handlers(self) -> dict[type[Event], Callable[[Any], Violation | None]]:
        return {PositionChanged: self.on_position, PositionClosed: self.on_position}

    def _loss(self) -> Decimal:
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

    def _trip(self, ts: datetime, loss: Decimal, symbol: str | None) -> Violation:
        self._tripped = True
        return self.violation(
            f"daily realized loss {money(-loss)} <= {money(-self._limit)}",
            remedy=self._remedy,
            ts=ts,
            symbol=symbol,
            daily_realized=-loss,
            limit=-self._limit,
        )

    def loss_room(self) -> tuple[Decimal, Decimal]:
        """(limit, today's realized loss) exactly (``DailyLossRoom``)."""
        return self._limit, self._loss()

    def measure(self) -> Measure:
        loss = self._loss()
        shown = float(max(loss, Decimal(0)))
        return Measure(shown, float(self._limit), "$", f"realized today {money(-loss)}", self._tripped)

    def reset_daily(self) -> None:
        self._tripped = False

    def export_state(self) -> dict[str, Any]:
        return {"tripped": self._tripped}

    def restore_state(self, state: Mapping[str, Any], *, same_day: bool) -> None:
        if same_day:
            self._tripped = bool(state.get("tripped", False))
