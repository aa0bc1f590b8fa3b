"""max_contracts: total open contracts across the account; orders that would exceed it are denied."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from trading.config_types import Number
from trading.model import Event, Order, OrderRole, OrderType, PositionChanged, PositionEvent, PositionOpened
from trading.risk.actions import Action, ReduceToLimit, Remedy, plain_remedy
from trading.risk.loosening import Looser
from trading.risk.pnl import SymbolPnL
from trading.risk.rules.base import Measure, Rule, RuleConfig
from trading.risk.types import Violation

__all__ = [
    "MaxContracts",
    "MaxContractsConfig",
    "broker_quantity",
    "projected_quantity",
    "working_entry_quantity",
    "working_exit_quantity",
    "worst_quantity",
]


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


def working_exit_quantity(orders: Iterable[Order], symbol: str, held: float) -> float:
    """Quantity still to fill on working closing market orders (enforcement's reduce, close and
    flatten) against the ``held`` position: what is already on its way off it."""
    if held == 0.0:
        return 0.0
    return sum(
        o.remaining
        for o in orders
        if o.symbol == symbol
        and o.role is OrderRole.EXIT
        and o.order_type is OrderType.MARKET
        and o.side.sign * held < 0
    )


def worst_quantity(held: float, orders: Iterable[Order], symbol: str) -> float:
    """The absolute position in ``symbol`` if the working entries of one side all fill (the
    side that ends with the larger holding)."""
    mine = [o for o in orders if o.symbol == symbol]
    buys = working_entry_quantity(mine, symbol, 1.0)
    sells = working_entry_quantity(mine, symbol, -1.0)
    return max(abs(held + buys), abs(held - sells))


def projected_quantity(rule: Rule, order: Order) -> tuple[float, float]:
    """(current absolute quantity, absolute quantity if ``order`` and the working entries fill).
    ``order`` itself is not counted among the working ones (a venue's guard checks a hand order
    after the fact, when it is working already)."""
    current = rule.pnl.quantity(order.symbol)
    others = [o for o in rule.ctx.open_orders(order.symbol) if o.order_id != order.order_id]
    working = working_entry_quantity(others, order.symbol, order.side.sign)
    after = current + order.side.sign * (order.quantity + working)
    return abs(current), abs(after)


def broker_quantity(rule: Rule, symbol: str) -> float:
    """The broker's signed position in ``symbol`` now (every fill of the step counted)."""
    position = rule.ctx.positions().get(symbol)
    return 0.0 if position is None else position.quantity


class MaxContracts(Rule):
    """The total of the counted symbols' open contracts.

    The pre-trade check counts, besides the positions, the working entry orders of every
    counted symbol (the side of each symbol that would hold more) and the order's own.

    ``reduce_to_limit`` keeps acting until the holding is within the limit: on every position
    event (and sweep) the excess is measured on the broker's positions after every fill of the
    step, less what working closing orders already take off; any excess left is cut from the
    largest position not yet being reduced. A flood of fills therefore asks for exactly the
    excess, once. Other actions fire once per crossing of the limit.
    """

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

    def _covers(self, symbol: str) -> bool:
        return not self._symbols or symbol in self._symbols

    def _counted(self) -> list[SymbolPnL]:
        return [s for s in self.pnl.open_positions() if self._covers(s.symbol)]

    def _total(self) -> float:
        return sum(abs(s.quantity) for s in self._counted())

    def handlers(self) -> dict[type[Event], Callable[[Any], Violation | None]]:
        return {PositionOpened: self.on_position, PositionChanged: self.on_position}

    def check(self, order: Order, reducing: bool, now: datetime) -> str | None:
        if reducing or not self._covers(order.symbol):
            return None
        _, after = projected_quantity(self, order)
        orders = [o for o in self.ctx.open_orders(None) if o.order_id != order.order_id]
        others = {s.symbol: s.quantity for s in self._counted() if s.symbol != order.symbol}
        for working in orders:
            symbol = working.symbol
            if working.role is OrderRole.ENTRY and symbol != order.symbol and self._covers(symbol):
                others.setdefault(symbol, 0.0)
        total = after + sum(worst_quantity(held, orders, symbol) for symbol, held in others.items())
        if total <= self._limit + 1e-9:
            return None
        return f"would hold {total:g} contracts, max_contracts {self._limit:g} (working entries counted)"

    def on_position(self, event: PositionEvent) -> Violation | None:
        return self._evaluate(event.ts)

    def sweep(self, now: datetime) -> list[Violation]:
        if not self._reduce:
            return []
        found = self._evaluate(now)
        return [] if found is None else [found]

    def _evaluate(self, ts: datetime) -> Violation | None:
        held = {s: p.quantity for s, p in self.ctx.positions().items() if self._covers(s) and not p.is_flat}
        total = sum(abs(q) for q in held.values())
        if total <= self._limit + 1e-9:
            self._fired = False
            return None
        if not self._reduce or self.shadow:  # nothing is taken off: once per crossing
            if self._fired:
                return None
            self._fired = True
            largest = max(held, key=lambda s: abs(held[s]))
            cut = min(total - self._limit, abs(held[largest]))
            remedy = self._remedy or ReduceToLimit(symbol=largest, excess=cut)
            return self._violation(ts, total, largest, remedy)
        orders = self.ctx.open_orders(None)
        free = {s: abs(q) - working_exit_quantity(orders, s, q) for s, q in held.items()}
        excess = total - self._limit - sum(abs(q) - free[s] for s, q in held.items())
        if excess <= 1e-9:
            return None  # the working closing orders already take the excess off
        self._fired = True
        largest = max(free, key=lambda s: free[s])
        cut = min(excess, free[largest])
        return self._violation(ts, total, largest, ReduceToLimit(symbol=largest, excess=cut))

    def _violation(self, ts: datetime, total: float, symbol: str, remedy: Remedy) -> Violation:
        return self.violation(
            f"holding {total:g} contracts > max_contracts {self._limit:g}",
            remedy=remedy,
            ts=ts,
            symbol=symbol,
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
