"""max_order_rate: at most ``max_orders`` checked orders per ``interval_s`` (NautilusTrader's
``max_order_submit_rate``). Orders that only reduce exposure are never refused."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import Field

from trading.config_types import Number, Whole
from trading.model import Order
from trading.risk.actions import Action
from trading.risk.loosening import Looser
from trading.risk.rules.base import Measure, Rule, RuleConfig

__all__ = ["MaxOrderRate", "MaxOrderRateConfig"]


class MaxOrderRateConfig(RuleConfig):
    kind: Literal["max_order_rate"] = "max_order_rate"
    max_orders: Annotated[Whole, Field(gt=0), Looser.HIGHER] = 10
    interval_s: Annotated[Number, Field(gt=0), Looser.LOWER] = 1.0
    action: Annotated[Literal[Action.DENY], Looser.MILDER] = Action.DENY


class MaxOrderRate(Rule):
    kind = "max_order_rate"
    config_type = MaxOrderRateConfig
    config: MaxOrderRateConfig
    checks_orders = True

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._span = timedelta(seconds=self.config.interval_s)
        self._times: deque[datetime] = deque()

    def _prune(self, now: datetime) -> int:
        horizon = now - self._span
        times = self._times
        while times and times[0] <= horizon:
            times.popleft()
        return len(times)

    def check(self, order: Order, reducing: bool, now: datetime) -> str | None:
        if reducing or self._prune(now) < self.config.max_orders:
            return None
        cfg = self.config
        return f"order rate exceeded: {cfg.max_orders} orders per {cfg.interval_s:g}s"

    def on_passed(self, order: Order, now: datetime) -> None:
        self._times.append(now)

    def export_state(self) -> dict[str, Any]:
        return {"times": [t.isoformat() for t in self._times]}

    def restore_state(self, state: Mapping[str, Any], *, same_day: bool) -> None:
        self._times = deque(datetime.fromisoformat(t) for t in state.get("times", ()))

    def measure(self) -> Measure:
        count = self._prune(self.ctx.clock.now())
        cfg = self.config
        return Measure(float(count), float(cfg.max_orders), "orders", f"per {cfg.interval_s:g}s", False)
