"""unrealized_loss: one position's open loss reaches the limit -> close that position."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from trading.model import (
    Event,
    MarketDataUpdated,
    PositionChanged,
    PositionClosed,
    PositionEvent,
    PositionOpened,
)
from trading.risk.actions import Action, ClosePosition, Remedy, plain_remedy
from trading.risk.amounts import Amount
from trading.risk.loosening import Looser
from trading.risk.rules.base import Measure, Rule, RuleConfig, money
from trading.risk.rules.open_pnl_watch import OpenPnLWatch
from trading.risk.types import Violation

__all__ = ["UnrealizedLoss", "UnrealizedLossConfig"]


class UnrealizedLossConfig(RuleConfig):
    kind: Literal["unrealized_loss"] = "unrealized_loss"
    limit: Annotated[Amount, Field(gt=0.0, description="open loss per position, positive"), Looser.HIGHER]
    symbols: Annotated[tuple[str, ...], Field(description="empty: every symbol"), Looser.NARROWER] = ()
    action: Annotated[Literal[Action.CLOSE_POSITION, Action.FLATTEN, Action.ALERT], Looser.MILDER] = (
        Action.CLOSE_POSITION
    )


class UnrealizedLoss(Rule):
    """Fires once per position; re-armed when the position closes."""

    kind = "unrealized_loss"
    config_type = UnrealizedLossConfig
    config: UnrealizedLossConfig

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._limit = self.config.limit
        self.symbols = frozenset(self.config.symbols)
        self._watch = OpenPnLWatch(self.pnl, threshold=self._limit, sign=-1, symbols=self.symbols)
        self._trigger = -self._watch.trigger  # a tick can fire only when unrealized <= trigger
        self._symbol_table = self.pnl.symbols
        action = self.config.action
        self._plain: Remedy | None = None if action is Action.CLOSE_POSITION else plain_remedy(action)

    def handlers(self) -> dict[type[Event], Callable[[Any], Violation | None]]:
        return {
            MarketDataUpdated: self.on_market,
            PositionOpened: self.on_position,
            PositionChanged: self.on_position,
            PositionClosed: self.on_closed,
        }

    def on_market(self, event: MarketDataUpdated) -> Violation | None:
        entry = self._symbol_table.get(event.symbol)
        if entry is None or entry.unrealized > self._trigger:
            return None
        return self._evaluate(event.symbol, event.ts)

    def on_position(self, event: PositionEvent) -> Violation | None:
        return self._evaluate(event.symbol, event.ts)

    def on_closed(self, event: PositionClosed) -> None:
        self._watch.closed(event.symbol)

    def _evaluate(self, symbol: str, ts: datetime) -> Violation | None:
        unrealized = self._watch.evaluate(symbol)
        if unrealized is None:
            return None
        return self.violation(
            f"{symbol} unrealized loss {money(unrealized)} <= {money(-self._limit)}",
            remedy=self._plain or ClosePosition(symbol=symbol),
            ts=ts,
            symbol=symbol,
            unrealized=unrealized,
            limit=-self._limit,
        )

    def sweep(self, now: datetime) -> list[Violation]:
        found = (self._evaluate(symbol, now) for symbol in self._watch.held())
        return [v for v in found if v is not None]

    def measure(self) -> Measure:
        worst, where = self._watch.worst()
        detail = f"worst {where} {money(-worst)}" if where else "no open position"
        return Measure(worst, float(self._limit), "$", detail, self._watch.latched)

    def export_state(self) -> dict[str, Any]:
        return self._watch.export_state()

    def restore_state(self, state: Mapping[str, Any], *, same_day: bool) -> None:
        self._watch.restore_state(state)  # a position's latch lasts until it closes, across days
