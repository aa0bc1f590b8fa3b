"""trailing_drawdown (prop-firm style): equity falls to a floor that trails its high-water mark."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from trading.config_types import Flag, Number
from trading.model import Event, MarketDataUpdated, PositionChanged, PositionClosed, PositionOpened
from trading.risk.actions import Action, plain_remedy
from trading.risk.loosening import Looser
from trading.risk.rules.base import Measure, Rule, RuleConfig, money
from trading.risk.types import Violation

__all__ = ["TrailingDrawdown", "TrailingDrawdownConfig"]


class TrailingDrawdownConfig(RuleConfig):
    kind: Literal["trailing_drawdown"] = "trailing_drawdown"
    max_drawdown: Annotated[
        Number,
        Field(gt=0, description="distance of the floor below the equity high-water mark"),
        Looser.HIGHER,
    ]
    stop_trailing_at_start: Annotated[Flag, Looser.ON] = Field(
        default=True, description="the floor stops rising once it reaches the starting balance"
    )
    include_unrealized: Annotated[Flag, Looser.OFF] = True
    action: Annotated[Literal[Action.FLATTEN_AND_LOCK, Action.FLATTEN, Action.ALERT], Looser.MILDER] = (
        Action.FLATTEN_AND_LOCK
    )


class TrailingDrawdown(Rule):
    """floor = high_water - max_drawdown, capped at the starting balance when configured.

    The high-water mark starts at the starting balance and only rises; it is kept across
    daily resets (the latch is re-armed at the reset, the mark is not).
    """

    kind = "trailing_drawdown"
    config_type = TrailingDrawdownConfig
    config: TrailingDrawdownConfig

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._dd = self.config.max_drawdown
        self._start = float(self.ctx.starting_balance)
        self._cap = self._start if self.config.stop_trailing_at_start else float("inf")
        self.high_water = max(self._start, self._equity())
        self.floor = min(self.high_water - self._dd, self._cap)
        self._tripped = False
        self._unrealized = self.config.include_unrealized
        self._remedy = plain_remedy(self.config.action)

    def handlers(self) -> dict[type[Event], Callable[[Any], Violation | None]]:
        return {
            MarketDataUpdated: self.on_event,
            PositionOpened: self.on_event,
            PositionChanged: self.on_event,
            PositionClosed: self.on_event,
        }

    def _equity(self) -> float:
        pnl = self.pnl
        return pnl.equity if self.config.include_unrealized else pnl.cash

    def on_event(self, event: Any) -> Violation | None:
        equity = self.pnl.equity if self._unrealized else self.pnl.cash
        if equity > self.high_water:
            self.high_water = equity
            floor = equity - self._dd
            self.floor = floor if floor < self._cap else self._cap
            return None
        if equity > self.floor or self._tripped:
            return None
        return self._trip(event.ts, equity)

    def export_state(self) -> dict[str, Any]:
        return {"high_water": self.high_water}

    def restore_state(self, state: Mapping[str, Any]) -> None:
        """A prop-firm floor never resets by restarting: keep the higher of the two marks."""
        saved = float(state.get("high_water", self.high_water))
        if saved > self.high_water:
            self.high_water = saved
            self.floor = min(saved - self._dd, self._cap)

    def sweep(self, now: datetime) -> list[Violation]:
        equity = self._equity()
        if self._tripped or equity > self.floor:
            return []
        return [self._trip(now, equity)]

    def _trip(self, ts: datetime, equity: float) -> Violation:
        self._tripped = True
        return self.violation(
            f"equity {money(equity)} <= trailing floor {money(self.floor)} "
            f"(high-water {money(self.high_water)} - {money(self._dd)})",
            remedy=self._remedy,
            ts=ts,
            equity=equity,
            floor=self.floor,
            high_water=self.high_water,
        )

    def measure(self) -> Measure:
        used = self.high_water - self._equity()
        room = self.high_water - self.floor
        detail = f"floor {money(self.floor)}, high-water {money(self.high_water)}"
        return Measure(max(used, 0.0), room, "$", detail, self._tripped)

    def reset_daily(self) -> None:
        self._tripped = False
