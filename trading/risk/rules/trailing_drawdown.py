"""trailing_drawdown (prop-firm style): equity falls to a floor below its high-water mark.

Three ways the floor moves (``trailing``), as funded-account firms write them:

- ``intraday`` (the default): the high-water mark follows peak equity tick by tick, open P&L
  included (unless ``include_unrealized`` is off);
- ``end_of_day``: the mark is the highest end-of-day balance, taken at each daily reset (the
  exact equity then: cash, plus the mark of a position held over the reset); the floor never
  rises during a day, but live equity (open P&L included) is held against it tick by tick;
- ``static``: the floor stays at the starting balance minus ``max_drawdown``.

The floor stops rising once it reaches its freeze level: the starting balance
(``stop_trailing_at_start``, the default) or the starting balance plus ``freeze_above_start``.

The high-water mark and the floor are exact (``Decimal``). Equity with open positions moves
with every tick as a float; near the floor the exact equity decides (the guard band of
``trading.risk.amounts``), so equity exactly at the floor fires. A new high is taken at the
exact equity, so the floor never carries a float's rounding."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, model_validator

from trading.config_types import Flag
from trading.model import Event, MarketDataUpdated, PositionChanged, PositionClosed, PositionOpened
from trading.model.money import to_money
from trading.risk.actions import Action, plain_remedy
from trading.risk.amounts import Amount, at_most, band, show_amount
from trading.risk.loosening import Looser
from trading.risk.rules.base import Measure, Rule, RuleConfig, money
from trading.risk.types import Violation

__all__ = ["TrailingDrawdown", "TrailingDrawdownConfig"]

Trailing = Literal["intraday", "end_of_day", "static"]


class TrailingDrawdownConfig(RuleConfig):
    kind: Literal["trailing_drawdown"] = "trailing_drawdown"
    max_drawdown: Annotated[
        Amount,
        Field(gt=0.0, description="distance of the floor below the equity high-water mark"),
        Looser.HIGHER,
    ]
    trailing: Annotated[Trailing, Looser.ANY] = Field(
        default="intraday",
        description="intraday: the mark follows peak equity tick by tick; end_of_day: the highest "
        "end-of-day balance, taken at each daily reset; static: the floor never moves",
    )
    stop_trailing_at_start: Annotated[Flag, Looser.ON] = Field(
        default=True, description="the floor stops rising once it reaches the starting balance"
    )
    freeze_above_start: Annotated[Amount | None, Looser.LOWER] = Field(
        default=None,
        ge=0.0,
        description="the floor stops rising at the starting balance plus this (0: the starting balance)",
    )
    include_unrealized: Annotated[Flag, Looser.OFF] = True
    action: Annotated[Literal[Action.FLATTEN_AND_LOCK, Action.FLATTEN, Action.ALERT], Looser.MILDER] = (
        Action.FLATTEN_AND_LOCK
    )

    @model_validator(mode="after")
    def _freeze_needs_a_stop(self) -> TrailingDrawdownConfig:
        if self.freeze_above_start is not None and not self.stop_trailing_at_start:
            raise ValueError(
                "freeze_above_start sets where the floor stops rising: it cannot go with "
                "stop_trailing_at_start: false (leave that out)"
            )
        return self


class TrailingDrawdown(Rule):
    """floor = high_water - max_drawdown, capped at the freeze level when one is configured.

    The high-water mark starts at the starting balance and only rises; it is kept across
    daily resets and restarts (the latch is re-armed at the reset, the mark is not).
    """

    kind = "trailing_drawdown"
    config_type = TrailingDrawdownConfig
    config: TrailingDrawdownConfig
    loss_lockout: ClassVar[bool] = True  # its lockout is a loss lockout (the unlock policy reads this)

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        cfg = self.config
        self._dd = cfg.max_drawdown
        self._start = to_money(self.ctx.starting_balance)
        self._cap: Decimal | None = None
        if cfg.stop_trailing_at_start:
            self._cap = self._start + (cfg.freeze_above_start or Decimal(0))
        self._unrealized = cfg.include_unrealized
        self._ticks = cfg.trailing == "intraday"  # the mark follows equity tick by tick
        self._tripped = False
        self.high_water = self._start
        self.floor = self._start
        self._high_f = self._floor_f = self._width = self._clear = 0.0
        self._raise(max(self._start, self._exact()) if self._ticks else self._start)
        self._remedy = plain_remedy(cfg.action)

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
        self._clear = self._floor_f + self._width  # above this the float alone says: not at the floor

    def _at_floor(self, approx: float) -> bool:
        return at_most(approx, self._floor_f, self._width, self._exact, self.floor)

    def on_event(self, event: Any) -> Violation | None:
        approx = self.pnl.equity if self._unrealized else float(self.pnl.cash)
        if self._clear < approx and (approx <= self._high_f or not self._ticks):
            return None  # the hot path: above the floor, no new high to take
        if self._ticks and approx > self._high_f:
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
            f"(high-water {money(self.high_water)} - {money(self._dd)}, {self.config.trailing})",
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
        if self._cap is not None and self.floor == self._cap:
            detail += f" (frozen at {show_amount(self._cap)})"
        return Measure(max(used, 0.0), room, "$", detail, self._tripped)

    def reset_daily(self) -> None:
        """Re-arm; in ``end_of_day`` mode the day's closing balance may raise the mark."""
        self._tripped = False
        if self.config.trailing == "end_of_day":
            self._take_end_of_day(self._exact())

    def _take_end_of_day(self, balance: Decimal) -> None:
        if balance > self.high_water:
            self._raise(balance)

    def export_state(self) -> dict[str, Any]:
        return {
            "high_water": str(self.high_water),
            "tripped": self._tripped,
            "trailing": self.config.trailing,
        }

    def restore_state(self, state: Mapping[str, Any], *, same_day: bool) -> None:
        """A prop-firm floor never resets by restarting: keep the higher of the two marks (a
        ``static`` floor has none). In ``end_of_day`` mode a restart on a later day takes the
        balance the account had at the start of today (cash less today's realized net): the
        end-of-day balance of the reset the desk slept through."""
        saved = None if self.config.trailing == "static" else state.get("high_water")
        if saved is not None:
            mark = to_money(saved)
            if mark > self.high_water:
                self._raise(mark)
        if self.config.trailing == "end_of_day" and state and not same_day:
            self._take_end_of_day(self.pnl.cash - self.pnl.daily_net)
        if same_day:
            self._tripped = bool(state.get("tripped", False))
