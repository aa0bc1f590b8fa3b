"""no_stop_loss_grace: a position with no resting stop after N seconds is closed."""

from __future__ import annotations

from collections.abc import Callable, Mapping
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
    """A grace timer starts when a position opens; when it runs out (at its deadline) the broker
    is asked for a working stop order on the closing side. Timers are polled on ticks and on
    the sweep. A position whose grace has run out is ``checked`` until it closes.

    Across a restart the running timers and the checked positions come back; a position open at
    the restart that is neither (it opened after the last save) gets a grace timer from the restart."""

    kind = "no_stop_loss_grace"
    config_type = NoStopLossGraceConfig
    config: NoStopLossGraceConfig

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._prefix = f"grace:{self.name}:"
        self._next_due: datetime | None = None
        self._checked: set[str] = set()
        action = self.config.action
        self._plain: Remedy | None = None if action is Action.CLOSE_POSITION else plain_remedy(action)

    def handlers(self) -> dict[type[Event], Callable[[Any], Violation | None]]:
        return {
            PositionOpened: self.on_opened,
            PositionClosed: self.on_closed,
            MarketDataUpdated: self.on_market,
        }

    def on_opened(self, event: PositionOpened) -> None:
        self._checked.discard(event.symbol)
        self._start(event.symbol)

    def _start(self, symbol: str) -> None:
        deadline = self.ctx.timers.start(self._prefix + symbol, self.config.grace_s, "no stop yet")
        if self._next_due is None or deadline < self._next_due:
            self._next_due = deadline

    def on_closed(self, event: PositionClosed) -> None:
        self.ctx.timers.cancel(self._prefix + event.symbol)
        self._checked.discard(event.symbol)

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
            if quantity == 0.0:
                continue
            self._checked.add(symbol)
            if self.has_stop(symbol, quantity):
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

    def export_state(self) -> dict[str, Any]:
        cut = len(self._prefix)
        timers = self.ctx.timers.deadlines(self._prefix)
        return {
            "timers": {k[cut:]: d.isoformat() for k, d in timers.items()},
            "checked": sorted(self._checked),
        }

    def restore_state(self, state: Mapping[str, Any], *, same_day: bool) -> None:
        """Grace timers and checked positions belong to positions, not to days."""
        timers = self.ctx.timers
        saved = dict(state.get("timers", {}))
        self._checked = {str(s) for s in state.get("checked", ())}
        for entry in self.pnl.open_positions():
            symbol = entry.symbol
            if symbol in saved:
                timers.set(
                    self._prefix + symbol, datetime.fromisoformat(saved[symbol]), "no stop yet (restored)"
                )
            elif symbol not in self._checked:
                self._start(symbol)  # opened after the last save: its grace runs from now
        pending = list(timers.deadlines(self._prefix).values())
        self._next_due = min(pending) if pending else None
