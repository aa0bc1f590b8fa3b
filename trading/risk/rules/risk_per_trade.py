"""risk_per_trade: an entry whose loss at its stop would reach the room left is denied.

The loss at the stop of an entry order with a stop (``Order.bracket_stop``: the stop-loss its
bracket places once it fills) is |entry price - stop| x multiplier x quantity plus a round turn
of commission (entry and exit fills), in exact decimals. The entry price is the order's limit
price (LIMIT, STOP_LIMIT), its trigger (STOP), or the last price (MARKET).

The room is the smallest of: the daily loss left under every enforced ``daily_realized_loss``
(its limit minus the loss it counts), the distance from equity to the floor of every enforced
``trailing_drawdown`` (the equity that rule counts), and ``max_loss``. Those limits fire when
reached, so a stop that would exactly reach the room is denied too: the order passes only when
its loss at the stop is strictly less than the room. Orders that only reduce exposure pass.

``contracts_allowed`` (the ``trading.risk.headroom.ContractBound`` seam) gives the Risk page
the most contracts whose loss at the typical stop stays below the room now.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import ROUND_CEILING, Decimal
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from trading.config_types import Flag
from trading.model import Order, OrderType
from trading.model.money import ZERO, to_money
from trading.risk.actions import Action
from trading.risk.amounts import Amount
from trading.risk.loosening import Looser
from trading.risk.rules.base import Measure, Rule, RuleConfig, money
from trading.risk.rules.loss_room import DailyLossRoom
from trading.risk.rules.trailing_drawdown import TrailingDrawdown

__all__ = ["RiskPerTrade", "RiskPerTradeConfig"]

_TWO = Decimal(2)


class RiskPerTradeConfig(RuleConfig):
    kind: Literal["risk_per_trade"] = "risk_per_trade"
    max_loss: Annotated[
        Amount | None,
        Field(gt=0.0, description="cap on one trade's loss at its stop, in account currency"),
        Looser.HIGHER,
    ] = None
    within_daily_loss: Annotated[Flag, Looser.OFF] = Field(
        default=True, description="the loss at the stop must stay below the daily loss left"
    )
    within_drawdown: Annotated[Flag, Looser.OFF] = Field(
        default=True, description="the loss at the stop must stay below the distance to the drawdown floor"
    )
    require_stop: Annotated[Flag, Looser.OFF] = Field(
        default=False, description="deny an entry that carries no stop (its loss cannot be measured)"
    )
    action: Annotated[Literal[Action.DENY], Looser.MILDER] = Action.DENY

    @model_validator(mode="after")
    def _bounded(self) -> RiskPerTradeConfig:
        if self.max_loss is None and not (self.within_daily_loss or self.within_drawdown):
            raise ValueError(
                "no max_loss and neither within_daily_loss nor within_drawdown: nothing to bound"
            )
        return self


class RiskPerTrade(Rule):
    kind = "risk_per_trade"
    config_type = RiskPerTradeConfig
    config: RiskPerTradeConfig
    checks_orders = True

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        cfg = self.config
        self._cap = cfg.max_loss
        self._daily, self._drawdown, self._require = (
            cfg.within_daily_loss,
            cfg.within_drawdown,
            cfg.require_stop,
        )

    # --- the room ----------------------------------------------------------------------

    def _peers(self) -> Iterator[Rule]:
        peers = self.ctx.peers
        if peers is None:
            return
        for rule in peers().values():
            if rule is not self and rule.config.enabled and not rule.shadow:
                yield rule

    def rooms(self) -> list[tuple[Decimal, str]]:
        """Every bound on a new trade's loss now, exact, with its name."""
        found: list[tuple[Decimal, str]] = []
        pnl = self.pnl
        for rule in self._peers():
            if self._daily and isinstance(rule, DailyLossRoom):
                limit, used = rule.loss_room()
                found.append((limit - used, f"daily loss left under {rule.name}"))
            elif self._drawdown and isinstance(rule, TrailingDrawdown):
                equity = pnl.exact_equity() if rule.config.include_unrealized else pnl.cash
                found.append((equity - rule.floor, f"distance to the {rule.name} floor"))
        if self._cap is not None:
            found.append((self._cap, "max_loss"))
        return found

    def room(self) -> tuple[Decimal, str] | None:
        """The tightest bound (a loss must stay strictly below it), or None when none applies."""
        rooms = self.rooms()
        return min(rooms, key=lambda r: r[0]) if rooms else None

    # --- the order's loss at its stop ---------------------------------------------------------

    def _entry_price(self, order: Order) -> float | None:
        if order.order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT):
            return order.price
        if order.order_type is OrderType.STOP:
            return order.stop_price
        entry = self.pnl.symbols.get(order.symbol)
        return None if entry is None else entry.last_price

    def loss_at_stop(self, order: Order) -> Decimal | None:
        """The order's loss if its stop fills, commissions in; None without a stop or a price."""
        stop, price = order.bracket_stop, self._entry_price(order)
        if stop is None or price is None:
            return None
        multiplier, commission = self._costs(order.symbol)
        quantity = to_money(order.quantity)
        return abs(to_money(price) - to_money(stop)) * multiplier * quantity + _TWO * commission * quantity

    def _costs(self, symbol: str) -> tuple[Decimal, Decimal]:
        """(multiplier, commission per contract per fill), exact."""
        lookup = self.ctx.instrument
        if lookup is None:
            return self.pnl.symbol(symbol).exact_multiplier, ZERO
        instrument = lookup(symbol)
        return to_money(instrument.multiplier), to_money(instrument.commission)

    def check(self, order: Order, reducing: bool, now: datetime) -> str | None:
        if reducing:
            return None
        if order.bracket_stop is None:
            if self._require:
                return "the order carries no stop: risk_per_trade needs one to measure its loss"
            return None
        loss = self.loss_at_stop(order)
        if loss is None:
            return f"no price known for {order.symbol}: the loss at the stop cannot be measured"
        bound = self.room()
        if bound is None or loss < bound[0]:
            return None
        room, name = bound
        return (
            f"loss at the stop {money(loss)} ({order.quantity:g} {order.symbol}, "
            f"stop {order.bracket_stop:g}) >= {name} {money(max(room, ZERO))}"
        )

    # --- headroom (trading.risk.headroom.ContractBound) and the Risk page -------------------

    def contracts_allowed(self, symbol: str, risk_per_contract: float | None) -> float | None:
        """The most whole contracts whose loss at the typical stop stays below the room."""
        bound = self.room()
        if bound is None or risk_per_contract is None or risk_per_contract <= 0:
            return None
        room = bound[0]
        if room <= 0:
            return 0.0
        ratio = room / to_money(risk_per_contract)
        return float(ratio.to_integral_value(rounding=ROUND_CEILING) - 1)

    def measure(self) -> Measure:
        rooms = self.rooms()
        if not rooms:
            return Measure(0.0, 0.0, "$", "no daily loss rule, drawdown rule or max_loss enforced")
        room = min(value for value, _ in rooms)
        parts = ", ".join(f"{label} {money(value)}" for value, label in rooms)
        return Measure(
            0.0, float(max(room, ZERO)), "$", f"a trade may risk < {money(room)} ({parts})", room <= 0
        )
