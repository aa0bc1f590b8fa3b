"""symbol_groups: instruments that move together (ES and MES, NQ and MNQ) counted as one exposure.

Each group maps its symbols to a weight (a micro as 0.1 of a mini): the group's exposure is
the sum of |contracts| x weight over its members, in exact decimals (ten MES at 0.1 are one ES,
not 1.0000000000000002). An order that would take a group's exposure past its ``limit`` is
denied (holding exactly the limit is allowed, as ``max_contracts`` allows it); with
``no_hedging`` an order that would leave a long and a short open in one group is denied.
Working entry orders count as if filled. Orders that only reduce a position always pass.

A fill that still gets past either (an order sent without the check, a position from before
the rule) is a violation once per group and breach; it re-arms when the group is back within.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from trading.config_types import Flag, Number
from trading.model import (
    Event,
    Order,
    OrderRole,
    PositionChanged,
    PositionClosed,
    PositionEvent,
    PositionOpened,
)
from trading.model.money import ZERO, to_money
from trading.risk.actions import Action, plain_remedy
from trading.risk.amounts import show_amount
from trading.risk.loosening import Looser
from trading.risk.rules.base import Measure, Rule, RuleConfig
from trading.risk.types import Violation

__all__ = ["SymbolGroup", "SymbolGroups", "SymbolGroupsConfig"]

_LONG, _SHORT = 1, -1


class SymbolGroup(BaseModel):
    """One group: its members with their weights, and an optional exposure limit."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    members: Annotated[
        dict[str, Annotated[Number, Field(gt=0)]],
        Field(min_length=1, description="symbol -> weight (contracts of the group one contract counts as)"),
        Looser.ANY,
    ]
    limit: Annotated[
        Number | None, Field(gt=0, description="most weighted contracts open in the group"), Looser.HIGHER
    ] = None


class SymbolGroupsConfig(RuleConfig):
    kind: Literal["symbol_groups"] = "symbol_groups"
    groups: Annotated[dict[str, SymbolGroup], Field(min_length=1), Looser.ANY]
    no_hedging: Annotated[Flag, Looser.OFF] = Field(
        default=True, description="deny an order that would leave a long and a short open in one group"
    )
    action: Annotated[Literal[Action.FLATTEN, Action.LOCK, Action.ALERT], Looser.MILDER] = Field(
        default=Action.ALERT, description="what a fill past the limit or a hedge that got through does"
    )

    @model_validator(mode="after")
    def _something_to_do(self) -> SymbolGroupsConfig:
        if not self.no_hedging and all(g.limit is None for g in self.groups.values()):
            raise ValueError("no group has a limit and no_hedging is off: the rule would do nothing")
        return self


class SymbolGroups(Rule):
    kind = "symbol_groups"
    config_type = SymbolGroupsConfig
    config: SymbolGroupsConfig
    checks_orders = True

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._weights: dict[str, dict[str, Decimal]] = {
            name: {symbol: to_money(w) for symbol, w in group.members.items()}
            for name, group in self.config.groups.items()
        }
        self._limits: dict[str, Decimal | None] = {
            name: None if group.limit is None else to_money(group.limit)
            for name, group in self.config.groups.items()
        }
        self._float_weights = {
            name: tuple((symbol, float(w)) for symbol, w in weights.items())
            for name, weights in self._weights.items()
        }
        self._float_limits = {name: float(limit or 0) for name, limit in self._limits.items()}
        self._of_symbol: dict[str, tuple[str, ...]] = {}
        for name, weights in self._weights.items():
            for symbol in weights:
                self._of_symbol[symbol] = (*self._of_symbol.get(symbol, ()), name)
        self.symbols = frozenset(self._of_symbol)
        self._hedging = self.config.no_hedging
        self._in_force: set[str] = set()  # "group:limit" / "group:hedge" latches
        self._remedy = plain_remedy(self.config.action)

    def handlers(self) -> dict[type[Event], Callable[[Any], Violation | None]]:
        return {
            PositionOpened: self.on_position,
            PositionChanged: self.on_position,
            PositionClosed: self.on_position,
        }

    # --- what a group holds --------------------------------------------------------------

    def _working(self, symbol: str) -> list[Order]:
        return [o for o in self.ctx.open_orders(symbol) if o.role is OrderRole.ENTRY and o.symbol == symbol]

    def exposure(self, group: str, order: Order | None = None, *, working: bool = True) -> Decimal:
        """The group's weighted contracts; with ``order`` as if it filled; working entries as if
        filled unless ``working`` is off."""
        total = ZERO
        for symbol, weight in self._weights[group].items():
            held = self.pnl.quantity(symbol)
            if order is not None and order.symbol == symbol:
                held += order.side.sign * order.quantity
            contracts = to_money(abs(held))
            if working:
                contracts += sum((to_money(o.remaining) for o in self._working(symbol)), ZERO)
            total += contracts * weight
        return total

    def _directions(self, group: str, order: Order | None = None) -> dict[int, list[str]]:
        """Which members could be long (1) and short (-1): the position (after ``order``) and the
        working entries."""
        found: dict[int, list[str]] = {_LONG: [], _SHORT: []}
        for symbol in self._weights[group]:
            held = self.pnl.quantity(symbol)
            if order is not None and order.symbol == symbol:
                held += order.side.sign * order.quantity
            if abs(held) > 1e-9:
                found[_LONG if held > 0 else _SHORT].append(symbol)
            if order is None:
                continue
            for working in self._working(symbol):
                sign = _LONG if working.side.sign > 0 else _SHORT
                if symbol not in found[sign]:
                    found[sign].append(symbol)
        return found

    # --- pre-trade -----------------------------------------------------------------------

    def check(self, order: Order, reducing: bool, now: datetime) -> str | None:
        if reducing:
            return None
        for group in self._of_symbol.get(order.symbol, ()):
            limit = self._limits[group]
            if limit is not None:
                after = self.exposure(group, order)
                if after > limit:
                    return (
                        f"group {group} would hold {show_amount(after)} weighted contracts, "
                        f"limit {show_amount(limit)}"
                    )
            if self._hedging:
                sides = self._directions(group, order)
                if sides[_LONG] and sides[_SHORT]:
                    return (
                        f"would leave long {', '.join(sides[_LONG])} and short {', '.join(sides[_SHORT])} "
                        f"open in group {group}: hedging within a group is not allowed"
                    )
        return None

    # --- after fills ----------------------------------------------------------------------

    def on_position(self, event: PositionEvent) -> Violation | None:
        found: Violation | None = None
        for group in self._of_symbol.get(event.symbol, ()):
            limit = self._limits[group]
            if limit is not None:
                over = self._over(group, limit)
                if self._latch(f"{group}:limit", over) and found is None:
                    held = self.exposure(group, working=False)
                    found = self.violation(
                        f"group {group} holds {show_amount(held)} weighted contracts "
                        f"> limit {show_amount(limit)}",
                        remedy=self._remedy,
                        ts=event.ts,
                        symbol=event.symbol,
                        group=group,
                        exposure=held,
                        limit=limit,
                    )
            if self._hedging:
                hedged = self._latch(f"{group}:hedge", self._hedged(group))
                if hedged and found is None:
                    sides = self._directions(group)
                    found = self.violation(
                        f"group {group} is hedged: long {', '.join(sides[_LONG])}, "
                        f"short {', '.join(sides[_SHORT])}",
                        remedy=self._remedy,
                        ts=event.ts,
                        symbol=event.symbol,
                        group=group,
                    )
        return found

    def _over(self, group: str, limit: Decimal) -> bool:
        """The positions' exposure > ``limit``: a float sum decides away from the limit, the
        exact sum near it (``trading.risk.amounts``)."""
        quantity = self.pnl.quantity
        approx = sum(abs(quantity(symbol)) * weight for symbol, weight in self._float_weights[group])
        bound = self._float_limits[group]
        if approx < bound - 1e-6 * bound:
            return False
        return self.exposure(group, working=False) > limit

    def _hedged(self, group: str) -> bool:
        quantity = self.pnl.quantity
        long = short = False
        for symbol, _ in self._float_weights[group]:
            held = quantity(symbol)
            long |= held > 1e-9
            short |= held < -1e-9
        return long and short

    def _latch(self, key: str, breached: bool) -> bool:
        """True when ``breached`` is new (not yet in force); re-arms when it is gone."""
        if not breached:
            self._in_force.discard(key)
            return False
        if key in self._in_force:
            return False
        self._in_force.add(key)
        return True

    # --- headroom (trading.risk.headroom.ContractBound) and the Risk page ----------------

    def contracts_allowed(self, symbol: str, risk_per_contract: float | None) -> float | None:
        """The most contracts of ``symbol`` the group limits leave room for now."""
        room: float | None = None
        for group in self._of_symbol.get(symbol, ()):
            limit = self._limits[group]
            if limit is None:
                continue
            left = float((limit - self.exposure(group)) / self._weights[group][symbol])
            room = left if room is None else min(room, left)
        return room

    def measure(self) -> Measure:
        worst: tuple[Decimal, Decimal, Decimal, str] | None = None
        for group, limit in self._limits.items():
            if limit is None:
                continue
            held = self.exposure(group, working=False)
            if worst is None or held / limit > worst[0]:
                worst = (held / limit, held, limit, group)
        hedged = [g for g in self._weights if self._hedging and all(self._directions(g).values())]
        detail = f"hedged: {', '.join(hedged)}" if hedged else "no hedge"
        if worst is None:
            return Measure(float(len(hedged)), 1.0, "groups", detail, bool(hedged))
        _, held, limit, group = worst
        breached = held > limit or bool(hedged)
        return Measure(
            float(held),
            float(limit),
            "contracts",
            f"{group} {show_amount(held)}/{show_amount(limit)}; {detail}",
            breached,
        )

    def export_state(self) -> dict[str, Any]:
        return {"in_force": sorted(self._in_force)}

    def restore_state(self, state: Mapping[str, Any], *, same_day: bool) -> None:
        """In force until the group is back within its limit (or no longer hedged), across days."""
        self._in_force = {str(key) for key in state.get("in_force", ())}
