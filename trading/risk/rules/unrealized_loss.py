"""unrealized_loss: one position's open loss reaches the limit -> close that position."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from trading.model import (
    Event,
    MarketDataUpdated,
    PositionChanged,
    PositionClosed,
    PositionEvent,
    PositionOpened,
)
from trading.risk.rules.base import Measure, Rule, RuleConfig, money
from trading.risk.types import Violation

__all__ = ["UnrealizedLoss", "UnrealizedLossConfig"]


class UnrealizedLossConfig(RuleConfig):
    kind: Literal["unrealized_loss"] = "unrealized_loss"
    limit: float = Field(gt=0, description="open loss per position, positive")
    symbols: tuple[str, ...] = Field(default=(), description="empty: every symbol")
    action: Literal["close_position", "flatten", "alert"] = "close_position"


class UnrealizedLoss(Rule):
    """Fires once per position; re-armed when the position closes."""

    kind = "unrealized_loss"
    config_type = UnrealizedLossConfig
    config: UnrealizedLossConfig
    sign = -1.0  # loss: -unrealized

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._limit = self._threshold()
        self._symbols = self.symbols = frozenset(self.config.symbols)
        self._trigger = -self._limit  # fire when unrealized <= trigger
        self._fired: set[str] = set()
        self._symbol_table = self.pnl.symbols

    def _threshold(self) -> float:
        return self.config.limit

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
        self._fired.discard(event.symbol)

    def _evaluate(self, symbol: str, ts: datetime) -> Violation | None:
        if symbol in self._fired or (self._symbols and symbol not in self._symbols):
            return None
        entry = self._symbol_table.get(symbol)
        if entry is None or entry.is_flat:
            self._fired.discard(symbol)
            return None
        amount = self.sign * entry.unrealized
        if amount < self._limit:
            return None
        self._fired.add(symbol)
        return self._violation(symbol, ts, entry.unrealized)

    def _violation(self, symbol: str, ts: datetime, unrealized: float) -> Violation:
        return self.violation(
            f"{symbol} unrealized loss {money(unrealized)} <= {money(-self._limit)}",
            ts=ts,
            symbol=symbol,
            unrealized=unrealized,
            limit=-self._limit,
        )

    def sweep(self, now: datetime) -> list[Violation]:
        found = (self._evaluate(symbol, now) for symbol in list(self._symbol_table))
        return [v for v in found if v is not None]

    def measure(self) -> Measure:
        worst, where = 0.0, ""
        for entry in self.pnl.open_positions():
            if self._symbols and entry.symbol not in self._symbols:
                continue
            amount = self.sign * entry.unrealized
            if amount > worst:
                worst, where = amount, entry.symbol
        detail = f"worst {where} {money(self.sign * worst)}" if where else "no open position"
        return Measure(worst, self._limit, "$", detail, bool(self._fired))
