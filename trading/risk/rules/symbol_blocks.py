"""symbol_blocks: never open exposure in these symbols."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from trading.model import Event, Order, PositionOpened
from trading.risk.actions import Action, Alert, ClosePosition
from trading.risk.loosening import Looser
from trading.risk.rules.base import Measure, Rule, RuleConfig
from trading.risk.types import Violation

__all__ = ["SymbolBlocks", "SymbolBlocksConfig"]


class SymbolBlocksConfig(RuleConfig):
    kind: Literal["symbol_blocks"] = "symbol_blocks"
    symbols: Annotated[tuple[str, ...], Field(min_length=1), Looser.FEWER]
    action: Annotated[Literal[Action.DENY, Action.CLOSE_POSITION], Looser.MILDER] = Field(
        default=Action.DENY,
        description="deny: refuse orders; close_position: also close a position that appears",
    )


class SymbolBlocks(Rule):
    kind = "symbol_blocks"
    config_type = SymbolBlocksConfig
    config: SymbolBlocksConfig
    checks_orders = True

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._blocked = frozenset(self.config.symbols)
        self._close = self.config.action is Action.CLOSE_POSITION

    def handlers(self) -> dict[type[Event], Callable[[Any], Violation | None]]:
        return {PositionOpened: self.on_opened}

    def check(self, order: Order, reducing: bool, now: datetime) -> str | None:
        if reducing or order.symbol not in self._blocked:
            return None
        return f"{order.symbol} is blocked (symbol_blocks: {', '.join(sorted(self._blocked))})"

    def on_opened(self, event: PositionOpened) -> Violation | None:
        if event.symbol not in self._blocked:
            return None
        return self.violation(
            f"position opened in blocked symbol {event.symbol}",
            remedy=ClosePosition(symbol=event.symbol) if self._close else Alert(),
            ts=event.ts,
            symbol=event.symbol,
            quantity=event.quantity,
        )

    def measure(self) -> Measure:
        held = [s.symbol for s in self.pnl.open_positions() if s.symbol in self._blocked]
        detail = f"blocked: {', '.join(sorted(self._blocked))}" + (
            f"; held: {', '.join(held)}" if held else ""
        )
        return Measure(float(len(held)), 1.0, "positions", detail, bool(held))
