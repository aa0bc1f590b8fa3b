"""no_stop_loss_grace: a position with no resting stop after N seconds is closed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from trading.config_types import Number
from trading.model import Event, MarketDataUpdated, OrderType, PositionClosed, PositionOpened
from trading.risk.actions import Action, ClosePosition, Remedy, plain_remedy
from trading.risk.loosening import Looser
from trading.risk.rules.base import Measure, Rule, RuleConfig
from trading.risk.types import Violation

__all__ = ["NoStopLossGrace", "NoStopLossGraceConfig"]

_STOPS = (OrderType.STOP, OrderType.STOP_LIMIT)


class NoStopLossGraceConfig(RuleConfig):
    kind: Literal["no_stop_loss_grace"] = "no_stop_loss_grace"
    grace_s: Annotated[Number, Field(gt=0), Looser.HIGHER] = 30.0
    action: Annotated[Literal[Action.CLOSE_POSITION, Action.ALERT], Looser.MILDER] = Action.CLOSE_POSITION


class NoStopLossGrace(Rule):
    """A grace timer starts when a position opens; when it runs out the broker is asked for
    a working stop order on the closing side. Timers are polled on ticks and on the sweep."""

    kind = "no_stop_loss_grace"
    config_type = NoStopLossGraceConfig
    config: NoStopLossGraceConfig

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._prefix = f"grace:{self.name}:"
        self._next_due: datetime | None = None
        action = self.config.action
        self._plain: Remedy | None = None if action is Action.CLOSE_POSITION else plain_remedy(action)

    def handlers(self) -> dict[type[Event], Callable[[Any], Violation | None]]:
        return {
            PositionOpened: self.on_opened,
            PositionClosed: self.on_closed,
            MarketDataUpdated: self.on_market,
        }

    def on_opened(self, event: PositionOpened) -> None:
        deadline = self.ctx.timers.start(self._prefix + event.symbol, self.config.grace_s, "no stop yet")
        if self._next_due is None or deadline < self._next_due:
            self._next_due = deadline

    def on_closed(self, event: PositionClosed) -> None:
        self.ctx.timers.cancel(self._prefix + event.symbol)

    def on_market(self, event: MarketDataUpdated) -> Violation | None:
        if self._next_due is None or event.ts < self._next_due:
            return None
        found = self.sweep(event.ts)
        return found[0] if found else None

    def has_stop(self, symbol: str, quantity: float) -> bool:
        closing_sign = -1 if quantity > 0 else 1
        return any(
            o.order_type in _STOPS and o.side.sign == closing_sign for o in self.ctx.open_orders(symbol)
        )

    def sweep(self, now: datetime) -> list[Violation]:
        timers = self.ctx.timers
        found: list[Violation] = []
        for key in timers.due(now, self._prefix):
            symbol = key[len(self._prefix) :]
            quantity = self.pnl.quantity(symbol)
            if quantity == 0.0 or self.has_stop(symbol, quantity):
                continue
            found.append(
                self.violation(
                    f"{symbol} position {quantity:g} has no stop loss after {self.config.grace_s:g}s",
                    remedy=self._plain or ClosePosition(symbol=symbol),
                    ts=now,
                    symbol=symbol,
                    quantity=quantity,
                    grace_s=self.config.grace_s,
                )
            )
        pending = [d for k in list(self.pnl.symbols) if (d := timers.deadline(self._prefix + k)) is not None]
        self._next_due = min(pending) if pending else None
        return found

    def measure(self) -> Measure:
        grace = self.config.grace_s
        worst, where = 0.0, ""
        for entry in self.pnl.open_positions():
            if self.has_stop(entry.symbol, entry.quantity):
                continue
            key = self._prefix + entry.symbol
            elapsed = grace - self.ctx.timers.remaining(key) if self.ctx.timers.deadline(key) else grace
            if elapsed >= worst:
                worst, where = elapsed, entry.symbol
        detail = f"{where} without stop for {worst:.0f}s" if where else "every position has a stop"
        return Measure(worst, grace, "s", detail, False)
