"""unrealized_profit: one position's open profit reaches the target -> close that position (take it)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from trading.model import MarketDataUpdated, Severity
from trading.risk.rules.base import RuleConfig, money
from trading.risk.rules.unrealized_loss import UnrealizedLoss
from trading.risk.types import Violation

__all__ = ["UnrealizedProfit", "UnrealizedProfitConfig"]


class UnrealizedProfitConfig(RuleConfig):
    kind: Literal["unrealized_profit"] = "unrealized_profit"
    target: float = Field(gt=0, description="open profit per position")
    symbols: tuple[str, ...] = Field(default=(), description="empty: every symbol")
    action: Literal["close_position", "alert"] = "close_position"


class UnrealizedProfit(UnrealizedLoss):
    """The mirror of ``unrealized_loss``: same dispatch, the sign turned round."""

    kind = "unrealized_profit"
    config_type = UnrealizedProfitConfig  # type: ignore[assignment]  # narrowed config of the mirror rule
    config: UnrealizedProfitConfig  # type: ignore[assignment]  # the narrowed config of this rule
    sign = 1.0

    def _threshold(self) -> float:
        return self.config.target

    def on_market(self, event: MarketDataUpdated) -> Violation | None:
        entry = self._symbol_table.get(event.symbol)
        if entry is None or entry.unrealized < self._limit:
            return None
        return self._evaluate(event.symbol, event.ts)

    def _violation(self, symbol: str, ts: datetime, unrealized: float) -> Violation:
        return self.violation(
            f"{symbol} unrealized profit {money(unrealized)} >= {money(self._limit)}",
            ts=ts,
            symbol=symbol,
            severity=Severity.INFO,
            unrealized=unrealized,
            target=self._limit,
        )
