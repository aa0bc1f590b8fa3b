"""scaling_plan: the contracts allowed grow with the balance, tier by tier, set once a day.

The tier is chosen at the daily reset from the end-of-day balance (the account's cash: realized
P&L net of commissions, open positions not counted) and holds for the whole trading day: a
profit made today never raises it before the next reset. The tier is the highest one whose
``min_balance`` the balance reaches (at equality); below the first tier the first applies.

Contracts are weighted per symbol (``weights``; ``default_weight`` for the others), so a micro
may count as 0.1 of a mini; the weighted count is exact (``Decimal``). The pre-trade check
denies an entry that would take the weighted count past the day's limit, counting the working
entry orders of every symbol as if they filled (each symbol at its worst side). Over the limit
(the tier went down at the reset with positions held, or a fill landed), the rule reduces the
largest weighted position by the excess, net of the reducing orders already working, and acts
again on each position change or sweep until the count is within the limit.

After a restart the day's balance comes back from the saved state (the same day) or from the
books: the cash less today's realized P&L recounted from the journal, the balance the day began
with.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from trading.config_types import Number
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
from trading.risk.actions import Action, ReduceToLimit, Remedy, plain_remedy
from trading.risk.amounts import Amount, show_amount
from trading.risk.loosening import Each, Looser
from trading.risk.rules.base import Measure, Rule, RuleConfig, money
from trading.risk.types import Violation

__all__ = ["ScalingPlan", "ScalingPlanConfig", "ScalingTier"]


class ScalingTier(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    min_balance: Annotated[Amount, Field(description="end-of-day balance from which this tier applies")]
    max_contracts: Annotated[Number, Field(gt=0, description="weighted contracts allowed")]


class ScalingPlanConfig(RuleConfig):
    kind: Literal["scaling_plan"] = "scaling_plan"
    tiers: Annotated[tuple[ScalingTier, ...], Field(min_length=1), Looser.ANY]
    weights: Annotated[
        dict[str, Annotated[Number, Field(gt=0)]], Each(Looser.LOWER, fallback="default_weight")
    ] = Field(default_factory=dict)
    default_weight: Annotated[Number, Field(gt=0), Looser.LOWER] = 1.0
    action: Annotated[Literal[Action.REDUCE_TO_LIMIT, Action.FLATTEN, Action.ALERT], Looser.MILDER] = (
        Action.REDUCE_TO_LIMIT
    )

    @model_validator(mode="after")
    def _rising_tiers(self) -> ScalingPlanConfig:
        balances = [tier.min_balance for tier in self.tiers]
        if any(b >= a for a, b in zip(balances[1:], balances, strict=False)):
            shown = ", ".join(money(b) for b in balances)
            raise ValueError(f"tiers must be listed by rising min_balance, got {shown}")
        return self


class ScalingPlan(Rule):
    kind = "scaling_plan"
    config_type = ScalingPlanConfig
    config: ScalingPlanConfig
    checks_orders = True

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        cfg = self.config
        self._weights = {s: to_money(w) for s, w in cfg.weights.items()}
        self._default = to_money(cfg.default_weight)
        self._reduce = cfg.action is Action.REDUCE_TO_LIMIT
        self._plain: Remedy | None = None if self._reduce else plain_remedy(cfg.action)
        self._fired = False  # alert/flatten: in force until the count is within the limit
        self.balance = ZERO
        self.limit = ZERO
        self.tier = 0
        self._set_balance(self._day_start_balance())

    # --- the day's limit ---------------------------------------------------------------

    def _day_start_balance(self) -> Decimal:
        """The balance the trading day began with: cash less today's realized P&L (net)."""
        return self.pnl.cash - self.pnl.daily_net

    def _set_balance(self, balance: Decimal) -> None:
        tiers = self.config.tiers
        index = 0
        for i, tier in enumerate(tiers):
            if balance >= tier.min_balance:
                index = i
        self.balance, self.tier = balance, index
        self.limit = to_money(tiers[index].max_contracts)

    def weight(self, symbol: str) -> Decimal:
        return self._weights.get(symbol, self._default)

    # --- counting ------------------------------------------------------------------------

    def weighted_open(self) -> Decimal:
        return sum(
            (self.weight(s.symbol) * to_money(abs(s.quantity)) for s in self.pnl.open_positions()), ZERO
        )

    def _projected(self, extra: Order | None) -> Decimal:
        """The weighted count if every working entry (and ``extra``) filled, each symbol at its
        worse side."""
        buys: dict[str, float] = {}
        sells: dict[str, float] = {}
        skip = None if extra is None else extra.order_id  # a venue's hand order is working already
        orders = [o for o in self.ctx.open_orders(None) if o.role is OrderRole.ENTRY and o.order_id != skip]
        if extra is not None:
            orders.append(extra)
        for o in orders:
            side = buys if o.side.sign > 0 else sells
            side[o.symbol] = side.get(o.symbol, 0.0) + float(o.remaining)
        held = {s.symbol: s.quantity for s in self.pnl.open_positions()}
        total = ZERO
        for symbol in set(held) | set(buys) | set(sells):
            q = held.get(symbol, 0.0)
            worst = max(abs(q + buys.get(symbol, 0.0)), abs(q - sells.get(symbol, 0.0)))
            total += self.weight(symbol) * to_money(worst)
        return total

    def _reducing_in_flight(self) -> dict[str, float]:
        """Per symbol, the quantity of working reduce-only orders (risk reduces and closes)."""
        found: dict[str, float] = {}
        for o in self.ctx.open_orders(None):
            if o.reduce_only:
                found[o.symbol] = found.get(o.symbol, 0.0) + float(o.remaining)
        return found

    # --- the rule ------------------------------------------------------------------------

    def check(self, order: Order, reducing: bool, now: datetime) -> str | None:
        if reducing:
            return None
        after = self._projected(order)
        if after <= self.limit:
            return None
        return (
            f"would hold {show_amount(after)} weighted contracts, the scaling plan allows "
            f"{show_amount(self.limit)} today (balance {money(self.balance)} at the reset)"
        )

    def contracts_allowed(self, symbol: str, risk_per_contract: float | None) -> float | None:
        """Headroom's seam: the most contracts of ``symbol`` a new entry may take now."""
        del risk_per_contract
        room = self.limit - self._projected(None)
        return max(0.0, math.floor(float(room / self.weight(symbol)) + 1e-9))

    def handlers(self) -> dict[type[Event], Callable[[Any], Violation | None]]:
        return {
            PositionOpened: self.on_position,
            PositionChanged: self.on_position,
            PositionClosed: self.on_position,  # one position closed: the next largest may still be over
        }

    def on_position(self, event: PositionEvent) -> Violation | None:
        return self._evaluate(event.ts)

    def sweep(self, now: datetime) -> list[Violation]:
        found = self._evaluate(now)
        return [] if found is None else [found]

    def _evaluate(self, ts: datetime) -> Violation | None:
        total = self.weighted_open()
        if total <= self.limit:
            self._fired = False
            return None
        if self._plain is not None:
            if self._fired:
                return None
            self._fired = True
            return self._violation(ts, total, self._plain, None)
        pending = self._reducing_in_flight()
        covered = sum((self.weight(s) * to_money(q) for s, q in pending.items()), ZERO)
        excess = total - self.limit - covered
        if excess <= ZERO:
            return None  # the reductions already working bring it within the limit
        open_ = [s for s in self.pnl.open_positions() if abs(s.quantity) - pending.get(s.symbol, 0.0) > 1e-9]
        if not open_:
            return None
        largest = max(open_, key=lambda s: self.weight(s.symbol) * to_money(abs(s.quantity)))
        weight = self.weight(largest.symbol)
        room = abs(largest.quantity) - pending.get(largest.symbol, 0.0)
        contracts = min(float(math.ceil(excess / weight)), room)
        return self._violation(
            ts, total, ReduceToLimit(symbol=largest.symbol, excess=contracts), largest.symbol
        )

    def _violation(self, ts: datetime, total: Decimal, remedy: Remedy, symbol: str | None) -> Violation:
        return self.violation(
            f"holding {show_amount(total)} weighted contracts > {show_amount(self.limit)} allowed by the "
            f"scaling plan today (tier {self.tier + 1}, balance {money(self.balance)} at the reset)",
            remedy=remedy,
            ts=ts,
            symbol=symbol,
            contracts=total,
            limit=self.limit,
            balance=self.balance,
        )

    def measure(self) -> Measure:
        total = self.weighted_open()
        detail = (
            f"{show_amount(total)} weighted open; tier {self.tier + 1} from balance {money(self.balance)}"
        )
        return Measure(float(total), float(self.limit), "contracts", detail, total > self.limit)

    # --- days and restarts ---------------------------------------------------------------------

    def reset_daily(self) -> None:
        """The new day's tier from the balance the day ended with (today's P&L is zero now)."""
        self._set_balance(self._day_start_balance())

    def export_state(self) -> dict[str, Any]:
        return {"balance": str(self.balance), "in_force": self._fired}

    def restore_state(self, state: Mapping[str, Any], *, same_day: bool) -> None:
        """The day's balance as set at its start (same day), else the books' start of today."""
        saved = state.get("balance")
        if same_day and saved is not None:
            self._set_balance(to_money(saved))
        else:
            self._set_balance(self._day_start_balance())
        self._fired = bool(state.get("in_force", False))
