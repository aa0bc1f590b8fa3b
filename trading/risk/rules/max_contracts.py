"""max_contracts: total open contracts across the account; orders that would exceed it are denied."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from trading.config_types import Number
from trading.model import Event, Order, OrderRole, PositionChanged, PositionEvent, PositionOpened
from trading.risk.actions import Action, ReduceToLimit, Remedy, plain_remedy
from trading.risk.loosening import Looser
from trading.risk.pnl import SymbolPnL
from trading.risk.rules.base import Measure, Rule, RuleConfig
from trading.risk.types import Violation

__all__ = ["MaxContracts", "MaxContractsConfig", "working_entry_quantity"]


class MaxContractsConfig(RuleConfig):
    kind: Literal["max_contracts"] = "max_contracts"
    limit: Annotated[
        Number, Field(gt=0, description="contracts (absolute), the symbols below together"), Looser.HIGHER
    ]
    symbols: Annotated[
        tuple[str, ...], Field(description="symbols counted; empty: every symbol"), Looser.NARROWER
    ] = ()
    action: Annotated[Literal[Action.REDUCE_TO_LIMIT, Action.FLATTEN, Action.ALERT], Looser.MILDER] = (
        Action.REDUCE_TO_LIMIT
    )


def working_entry_quantity(orders: Any, symbol: str, sign: float) -> float:
    """Quantity still to fill on working entry orders that add to a ``sign`` position."""
    return sum(
        o.remaining
        for o in orders
        if o.symbol == symbol and o.role is OrderRole.ENTRY and o.side.sign == sign
    )


def projected_quantity(rule: Rule, order: Order) -> tuple[float, float]:
    """(current absolute quantity, absolute quantity if ``order`` and the working entries fill)."""
    current = rule.pnl.quantity(order.symbol)
    working = working_entry_quantity(rule.ctx.open_orders(order.symbol), order.symbol, order.side.sign)
    after = current + order.side.sign * (order.quantity + working)
    return abs(current), abs(after)


class MaxContracts(Rule):
    kind = "max_contracts"
    config_type = MaxContractsConfig
    config: MaxContractsConfig
    checks_orders = True

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._limit = self.config.limit
        self._symbols = self.symbols = frozenset(self.config.symbols)
        self._fired = False
        action = self.config.action
        self._reduce = action is Action.REDUCE_TO_LIMIT
        self._remedy: Remedy | None = None if self._reduce else plain_remedy(action)

    def _counted(self) -> list[SymbolPnL]:
        return [s for s in self.pnl.open_positions() if not self._symbols or s.symbol in self._symbols]

    def _total(self) -> float:
        return sum(abs(s.quantity) for s in self._counted())

    def handlers(self) -> dict[type[Event], Callable[[Any], Violation | None]]:
        return {PositionOpened: self.on_position, PositionChanged: self.on_position}

    def check(self, order: Order, reducing: bool, now: datetime) -> str | None:
        if reducing or (self._symbols and order.symbol not in self._symbols):
            return None
        current, after = projected_quantity(self, order)
        total = self._total() - current + after
        if total <= self._limit + 1e-9:
            return None
        return f"would hold {total:g} contracts, max_contracts {self._limit:g}"

    def on_position(self, event: PositionEvent) -> Violation | None:
        total = self._total()
        if total <= self._limit + 1e-9:
            self._fired = False
            return None
        if self._fired:
            return None
        self._fired = True
        largest = max(self._counted(), key=lambda s: abs(s.quantity))
        excess = min(total - self._limit, abs(largest.quantity))
        remedy = self._remedy or ReduceToLimit(symbol=largest.symbol, excess=excess)
        return self.violation(
            f"holding {total:g} contracts > max_contracts {self._limit:g}",
            remedy=remedy,
            ts=event.ts,
            symbol=largest.symbol,
            contracts=total,
            limit=self._limit,
        )

    def measure(self) -> Measure:
        total = self._total()
        return Measure(total, self._limit, "contracts", f"{total:g} open", total > self._limit)

    def export_state(self) -> dict[str, Any]:
        return {"in_force": self._fired}

    def restore_state(self, state: Mapping[str, Any], *, same_day: bool) -> None:
        """In force until the holding is back within the limit, across days."""
        self._fired = bool(state.get("in_force", False))
