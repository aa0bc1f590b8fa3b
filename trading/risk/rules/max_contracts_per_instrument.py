"""max_contracts_per_instrument: open contracts per symbol, with per-symbol overrides."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from trading.config_types import Number
from trading.model import Event, Order, PositionChanged, PositionClosed, PositionEvent, PositionOpened
from trading.risk.actions import Action, ClosePosition, ReduceToLimit, Remedy, plain_remedy
from trading.risk.loosening import Each, Looser
from trading.risk.rules.base import Measure, Rule, RuleConfig
from trading.risk.rules.max_contracts import projected_quantity
from trading.risk.types import Violation

__all__ = ["MaxContractsPerInstrument", "MaxContractsPerInstrumentConfig"]


class MaxContractsPerInstrumentConfig(RuleConfig):
    kind: Literal["max_contracts_per_instrument"] = "max_contracts_per_instrument"
    limit: Annotated[
        Number,
        Field(gt=0, description="contracts per symbol unless per_symbol says otherwise"),
        Looser.HIGHER,
    ]
    per_symbol: Annotated[
        dict[str, Annotated[Number, Field(gt=0)]], Each(Looser.HIGHER, fallback="limit")
    ] = Field(default_factory=dict)
    action: Annotated[Literal[Action.REDUCE_TO_LIMIT, Action.CLOSE_POSITION, Action.ALERT], Looser.MILDER] = (
        Action.REDUCE_TO_LIMIT
    )


class MaxContractsPerInstrument(Rule):
    kind = "max_contracts_per_instrument"
    config_type = MaxContractsPerInstrumentConfig
    config: MaxContractsPerInstrumentConfig
    checks_orders = True

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._fired: set[str] = set()
        action = self.config.action
        by_symbol = (Action.REDUCE_TO_LIMIT, Action.CLOSE_POSITION)
        self._plain: Remedy | None = None if action in by_symbol else plain_remedy(action)

    def limit_for(self, symbol: str) -> float:
        return self.config.per_symbol.get(symbol, self.config.limit)

    def handlers(self) -> dict[type[Event], Callable[[Any], Violation | None]]:
        return {
            PositionOpened: self.on_position,
            PositionChanged: self.on_position,
            PositionClosed: self.on_closed,
        }

    def check(self, order: Order, reducing: bool, now: datetime) -> str | None:
        if reducing:
            return None
        _, after = projected_quantity(self, order)
        limit = self.limit_for(order.symbol)
        if after <= limit + 1e-9:
            return None
        return f"would hold {after:g} {order.symbol}, max_contracts_per_instrument {limit:g}"

    def on_position(self, event: PositionEvent) -> Violation | None:
        held = abs(event.quantity)
        limit = self.limit_for(event.symbol)
        if held <= limit + 1e-9:
            self._fired.discard(event.symbol)
            return None
        if event.symbol in self._fired:
            return None
        self._fired.add(event.symbol)
        return self.violation(
            f"holding {held:g} {event.symbol} > max_contracts_per_instrument {limit:g}",
            remedy=self._remedy(event.symbol, held - limit),
            ts=event.ts,
            symbol=event.symbol,
            contracts=held,
            limit=limit,
        )

    def _remedy(self, symbol: str, excess: float) -> Remedy:
        if self._plain is not None:
            return self._plain
        if self.config.action is Action.REDUCE_TO_LIMIT:
            return ReduceToLimit(symbol=symbol, excess=excess)
        return ClosePosition(symbol=symbol)

    def on_closed(self, event: PositionClosed) -> None:
        self._fired.discard(event.symbol)

    def measure(self) -> Measure:
        worst, where, limit = 0.0, "", self.config.limit
        for entry in self.pnl.open_positions():
            own = self.limit_for(entry.symbol)
            if abs(entry.quantity) / own > (worst / limit if limit else 0.0):
                worst, where, limit = abs(entry.quantity), entry.symbol, own
        detail = f"{where} {worst:g}/{limit:g}" if where else "no open position"
        return Measure(worst, limit, "contracts", detail, worst > limit)

    def export_state(self) -> dict[str, Any]:
        return {"in_force": sorted(self._fired)}

    def restore_state(self, state: Mapping[str, Any], *, same_day: bool) -> None:
        """In force per symbol until its holding is back within its limit, across days."""
        self._fired = {str(symbol) for symbol in state.get("in_force", ())}
