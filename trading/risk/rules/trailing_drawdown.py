"""trailing_drawdown (prop-firm style): equity falls to a floor that trails its high-water mark.

The high-water mark and the floor are exact (``Decimal``). Equity with open positions moves
with every tick as a float; near the floor the exact equity decides (the guard band of
``trading.risk.amounts``), so equity exactly at the floor fires. A new high is taken at the
exact equity, so the floor never carries a float's rounding."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import Field

from trading.config_types import Flag
from trading.model import Event, MarketDataUpdated, PositionChanged, PositionClosed, PositionOpened
from trading.model.money import to_money
from trading.risk.actions import Action, plain_remedy
from trading.risk.amounts import Amount, at_most, band
from trading.risk.loosening import Looser
from trading.risk.rules.base import Measure, Rule, RuleConfig, money
from trading.risk.types import Violation

__all__ = ["TrailingDrawdown", "TrailingDrawdownConfig"]


class TrailingDrawdownConfig(RuleConfig):
    kind: Literal["trailing_drawdown"] = "trailing_drawdown"
    max_drawdown: Annotated[
        Amount,
        Field(gt=0.0, description="distance of the floor below the equity high-water mark"),
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
    daily resets and restarts (the latch is re-armed at the reset, the mark is not).
    """

    kind = "trailing_drawdown"
    config_type = TrailingDrawdownConfig
    loss_lockout = True
    config: TrailingDrawdownConfig

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._dd = self.config.max_drawdown
        self._start = to_money(self.ctx.starting_balance)
        self._cap: Decimal | None = self._start if self.config.stop_trailing_at_start else None
        self._unrealized = self.config.include_unrealized
        self._tripped = False
        self.high_water = self._start
        self.floor = self._start
        self._high_f = self._floor_f = self._width = 0.0
        self._raise(max(self._start, self._exact()))
        self._remedy = plain_remedy(self.config.action)

    def handlers(self) -> dict[type[Event], Callable[[Any], Violation | None]]:
        return {
            MarketDataUpdated: self.on_event,
            PositionOpened: self.on_event,
            PositionChanged: self.on_event,
            PositionClosed: self.on_event,
        }

    # --- equity: a float per tick, exact near a boundary ----------------------------

    def _approx(self) -> float:
        pnl = self.pnl
        return pnl.equity if self._unrealized else float(pnl.cash)

    def _exact(self) -> Decimal:
        pnl = self.pnl
        return pnl.exact_equity() if self._unrealized else pnl.cash

    def _raise(self, high: Decimal) -> None:
        """A new high-water mark (exact) and the floor it sets."""
        self.high_water = high
        floor = high - self._dd
        self.floor = floor if self._cap is None or floor < self._cap else self._cap
        self._high_f, self._floor_f, self._width = float(high), float(self.floor), band(self.floor)

    def _at_floor(self, approx: float) -> bool:
        return at_most(approx, self._floor_f, self._width, self._exact, self.floor)

    def on_event(self, event: Any) -> Violation | None:
        approx = self._approx()
        if approx > self._high_f:
            exact = self._exact()
            if exact > self.high_water:
                self._raise(exact)
                return None
        if self._tripped or not self._at_floor(approx):
            return None
        return self._trip(event.ts)

    def sweep(self, now: datetime) -> list[Violation]:
        if self._tripped or not self._at_floor(self._approx()):
            return []
        return [self._trip(now)]

    def _trip(self, ts: datetime) -> Violation:
        self._tripped = True
        equity = self._exact()
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
        used = self._high_f - self._approx()
        room = self._high_f - self._floor_f
        detail = f"floor {money(self.floor)}, high-water {money(self.high_water)}"
        return Measure(max(used, 0.0), room, "$", detail, self._tripped)

    def reset_daily(self) -> None:
        self._tripped = False

    def export_state(self) -> dict[str, Any]:
        return {"high_water": str(self.high_water), "tripped": self._tripped}

    def restore_state(self, state: Mapping[str, Any], *, same_day: bool) -> None:
        """A prop-firm floor never resets by restarting: keep the higher of the two marks."""
        saved = state.get("high_water")
        if saved is not None:
            mark = to_money(saved)
            if mark > self.high_water:
                self._raise(mark)
        if same_day:
            self._tripped = bool(state.get("tripped", False))
