"""cooldown_after_loss: pause new entries for N minutes after a losing trade.

Exact: a trade's result (realized P&L less its commission) and ``min_loss`` are ``Decimal``;
a loss *larger* than ``min_loss`` starts the cooldown (``min_loss`` is a filter, not a limit:
with the default 0 a trade that nets exactly 0.00 is not a loss)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import Field

from trading.config_types import Number
from trading.model import Event, PositionChanged, PositionClosed, PositionEvent, Severity
from trading.model.money import to_money
from trading.risk.actions import Action, Cooldown, plain_remedy
from trading.risk.amounts import Amount
from trading.risk.loosening import Looser
from trading.risk.rules.base import Measure, Rule, RuleConfig, money
from trading.risk.types import Violation

__all__ = ["CooldownAfterLoss", "CooldownAfterLossConfig"]


class CooldownAfterLossConfig(RuleConfig):
    kind: Literal["cooldown_after_loss"] = "cooldown_after_loss"
    minutes: Annotated[Number, Field(gt=0), Looser.LOWER]
    min_loss: Annotated[
        Amount, Field(ge=0.0, description="only losses larger than this start a cooldown"), Looser.HIGHER
    ] = Decimal(0)
    action: Annotated[Literal[Action.COOLDOWN, Action.ALERT], Looser.MILDER] = Action.COOLDOWN


class CooldownAfterLoss(Rule):
    """A losing trade: a fill that realizes P&L (net of its commission) below ``-min_loss``."""

    kind = "cooldown_after_loss"
    config_type = CooldownAfterLossConfig
    config: CooldownAfterLossConfig

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._seconds = self.config.minutes * 60.0
        self._threshold = -self.config.min_loss
        self._key = f"cooldown:{self.name}"
        action = self.config.action
        self._remedy = Cooldown(seconds=self._seconds) if action is Action.COOLDOWN else plain_remedy(action)

    def handlers(self) -> dict[type[Event], Callable[[Any], Violation | None]]:
        return {PositionChanged: self.on_position, PositionClosed: self.on_position}

    def on_position(self, event: PositionEvent) -> Violation | None:
        if not event.realized_delta:
            return None
        result = to_money(event.realized_delta) - to_money(event.commission)
        if result >= self._threshold or result >= 0:
            return None
        self.ctx.timers.start(self._key, self._seconds, f"loss {money(result)} on {event.symbol}")
        return self.violation(
            f"losing trade {money(result)} on {event.symbol}: no new entries for {self.config.minutes:g} min",
            remedy=self._remedy,
            ts=event.ts,
            symbol=event.symbol,
            severity=Severity.WARNING,
            loss=result,
        )

    def measure(self) -> Measure:
        remaining = self.ctx.timers.remaining(self._key)
        detail = f"cooldown {remaining:.0f}s left" if remaining else "no cooldown"
        return Measure(remaining, self._seconds, "s", detail, remaining > 0)

    def export_state(self) -> dict[str, Any]:
        deadline = self.ctx.timers.deadline(self._key)
        return {"until": None if deadline is None else deadline.isoformat()}

    def restore_state(self, state: Mapping[str, Any], *, same_day: bool) -> None:
        until = state.get("until")
        if until is not None:
            deadline = datetime.fromisoformat(until)
            if deadline > self.ctx.clock.now():
                self.ctx.timers.set(self._key, deadline, "cooldown (restored)")
