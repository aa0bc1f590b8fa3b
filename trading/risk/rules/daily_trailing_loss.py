"""daily_trailing_loss: equity falls ``limit`` below today's equity peak -> flatten and lock out.

The peak starts at each daily reset from the equity then (cash plus open P&L), rises with every
new high of the day (open P&L included) and never falls during the day: a day that ran up
+1,500 and gave back 1,000 of it has lost 1,000 from its peak. The peak is exact (``Decimal``);
near the floor the exact equity decides (the guard band of ``trading.risk.amounts``), so a
give-back of exactly the limit fires and a cent less does not."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field

from trading.model import Event, MarketDataUpdated, PositionChanged, PositionClosed, PositionOpened
from trading.model.money import to_money
from trading.risk.actions import Action, plain_remedy
from trading.risk.amounts import Amount, at_most, band
from trading.risk.loosening import Looser
from trading.risk.rules.base import Measure, Rule, RuleConfig, money
from trading.risk.types import Violation

__all__ = ["DailyTrailingLoss", "DailyTrailingLossConfig"]


class DailyTrailingLossConfig(RuleConfig):
    kind: Literal["daily_trailing_loss"] = "daily_trailing_loss"
    limit: Annotated[
        Amount,
        Field(gt=0.0, description="give-back from today's equity peak that fires, in account currency"),
        Looser.HIGHER,
    ]
    action: Annotated[
        Literal[Action.FLATTEN_AND_LOCK, Action.FLATTEN, Action.LOCK, Action.ALERT], Looser.MILDER
    ] = Action.FLATTEN_AND_LOCK


class DailyTrailingLoss(Rule):
    kind = "daily_trailing_loss"
    config_type = DailyTrailingLossConfig
    config: DailyTrailingLossConfig
    loss_lockout: ClassVar[bool] = True  # its lockout is a loss lockout (the unlock policy reads this)

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._limit = self.config.limit
        self._tripped = False
        self.peak = self.floor = Decimal(0)
        self._peak_f = self._floor_f = self._width = self._clear = 0.0
        self._set_peak(self.pnl.exact_equity())
        self._remedy = plain_remedy(self.config.action)

    def handlers(self) -> dict[type[Event], Callable[[Any], Violation | None]]:
        return {
            MarketDataUpdated: self.on_event,
            PositionOpened: self.on_event,
            PositionChanged: self.on_event,
            PositionClosed: self.on_event,
        }

    def _set_peak(self, peak: Decimal) -> None:
        self.peak = peak
        self.floor = peak - self._limit
        self._peak_f, self._floor_f, self._width = float(peak), float(self.floor), band(self.floor)
        self._clear = self._floor_f + self._width  # above this the float alone says: not at the floor

    def on_event(self, event: Any) -> Violation | None:
        pnl = self.pnl
        approx = pnl.equity
        if self._clear < approx <= self._peak_f:  # the hot path: between the floor and the peak
            return None
        if approx > self._peak_f:
            exact = pnl.exact_equity()
            if exact > self.peak:
                self._set_peak(exact)
                return None
        if self._tripped or not at_most(approx, self._floor_f, self._width, pnl.exact_equity, self.floor):
            return None
        return self._trip(event.ts)

    def sweep(self, now: datetime) -> list[Violation]:
        pnl = self.pnl
        if self._tripped or not at_most(pnl.equity, self._floor_f, self._width, pnl.exact_equity, self.floor):
            return []
        return [self._trip(now)]

    def _trip(self, ts: datetime) -> Violation:
        self._tripped = True
        equity = self.pnl.exact_equity()
        return self.violation(
            f"equity {money(equity)} <= today's peak {money(self.peak)} - {money(self._limit)}",
            remedy=self._remedy,
            ts=ts,
            equity=equity,
            floor=self.floor,
            peak=self.peak,
        )

    def loss_room(self) -> tuple[Decimal, Decimal]:
        """(limit, the fall from today's equity peak) exactly (``DailyLossRoom``)."""
        return self._limit, self.peak - self.pnl.exact_equity()

    def measure(self) -> Measure:
        used = self._peak_f - self.pnl.equity
        detail = f"today's peak {money(self.peak)}, floor {money(self.floor)}"
        return Measure(max(used, 0.0), float(self._limit), "$", detail, self._tripped)

    def reset_daily(self) -> None:
        """A new day: re-armed, the peak starts again from the equity now."""
        self._tripped = False
        self._set_peak(self.pnl.exact_equity())

    def export_state(self) -> dict[str, Any]:
        return {"peak": str(self.peak), "tripped": self._tripped}

    def restore_state(self, state: Mapping[str, Any], *, same_day: bool) -> None:
        """Same day: the day's peak and latch come back (the higher of the saved peak and the
        equity now); another day starts from the equity now."""
        if not same_day:
            return
        saved = state.get("peak")
        if saved is not None and to_money(saved) > self.peak:
            self._set_peak(to_money(saved))
        self._tripped = bool(state.get("tripped", False))
