"""daily_loss: today's loss reaches the limit -> flatten and lock out until the daily reset.

Two measures (``basis``), as funded-account firms write the rule:

- ``realized``: today's realized P&L (what ``daily_realized_loss`` measures);
- ``net`` (the default): today's realized P&L plus the open positions' P&L, so an open loser
  counts before it is closed, evaluated on every price.

Both are net of today's commissions unless ``include_commissions`` is off. Exact: the realized
part and the limit are ``Decimal``; the open P&L is a float per tick, and near the limit the
exact value decides (the guard band of ``trading.risk.amounts``), so a loss of exactly the
limit fires and a cent less does not."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field

from trading.config_types import Flag
from trading.model import Event, MarketDataUpdated, PositionChanged, PositionClosed, PositionOpened
from trading.risk.actions import Action, plain_remedy
from trading.risk.amounts import Amount, at_most, band
from trading.risk.loosening import Looser
from trading.risk.rules.base import Measure, Rule, RuleConfig, money
from trading.risk.types import Violation

__all__ = ["DailyLoss", "DailyLossConfig"]


class DailyLossConfig(RuleConfig):
    kind: Literal["daily_loss"] = "daily_loss"
    limit: Annotated[
        Amount,
        Field(gt=0.0, description="loss in account currency, positive: 1000 means -1,000.00"),
        Looser.HIGHER,
    ]
    basis: Annotated[Literal["realized", "net"], Looser.ANY] = Field(
        default="net", description="realized: today's realized P&L; net: realized plus open P&L"
    )
    include_commissions: Annotated[Flag, Looser.OFF] = True
    action: Annotated[
        Literal[Action.FLATTEN_AND_LOCK, Action.FLATTEN, Action.LOCK, Action.ALERT], Looser.MILDER
    ] = Action.FLATTEN_AND_LOCK


class DailyLoss(Rule):
    kind = "daily_loss"
    config_type = DailyLossConfig
    config: DailyLossConfig
    loss_lockout: ClassVar[bool] = True  # its lockout is a loss lockout (the unlock policy reads this)

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._limit = self.config.limit
        self._bound = -self._limit  # today's P&L at or below this fires
        self._bound_f, self._width = float(self._bound), band(self._bound)
        self._clear = self._bound_f + self._width  # above this the float alone decides: not reached
        self._net = self.config.include_commissions
        self._open = self.config.basis == "net"
        self._tripped = False
        self._realized_f = 0.0
        self._remedy = plain_remedy(self.config.action)
        self._note_realized()

    def handlers(self) -> dict[type[Event], Callable[[Any], Violation | None]]:
        found: dict[type[Event], Callable[[Any], Violation | None]] = {
            PositionOpened: self.on_position,
            PositionChanged: self.on_position,
            PositionClosed: self.on_position,
        }
        if self._open:
            found[MarketDataUpdated] = self.on_price
        return found

    # --- today's P&L: realized exact, open P&L a float per tick -----------------------

    def _realized(self) -> Decimal:
        pnl = self.pnl
        return pnl.daily_realized - pnl.daily_commissions if self._net else pnl.daily_realized

    def _note_realized(self) -> None:
        self._realized_f = float(self._realized())

    def _approx(self) -> float:
        return self._realized_f + self.pnl.unrealized if self._open else self._realized_f

    def _exact(self) -> Decimal:
        pnl = self.pnl
        realized = self._realized()
        return realized + (pnl.exact_equity() - pnl.cash) if self._open else realized

    def _reached(self) -> bool:
        return at_most(self._approx(), self._bound_f, self._width, self._exact, self._bound)

    def on_price(self, event: MarketDataUpdated) -> Violation | None:
        # the hot path: one float sum and compare while clearly above the limit (outside the band)
        if self._tripped or self._realized_f + self.pnl.unrealized > self._clear:
            return None
        if not self._reached():
            return None
        return self._trip(event.ts, None)

    def on_position(self, event: Any) -> Violation | None:
        self._note_realized()
        if self._tripped or not self._reached():
            return None
        return self._trip(event.ts, event.symbol)

    def sweep(self, now: datetime) -> list[Violation]:
        self._note_realized()
        if self._tripped or not self._reached():
            return []
        return [self._trip(now, None)]

    def _trip(self, ts: datetime, symbol: str | None) -> Violation:
        self._tripped = True
        today = self._exact()
        return self.violation(
            f"daily {self.config.basis} loss {money(today)} <= {money(self._bound)}",
            remedy=self._remedy,
            ts=ts,
            symbol=symbol,
            daily_pnl=today,
            limit=self._bound,
        )

    def loss_room(self) -> tuple[Decimal, Decimal]:
        """(limit, today's loss on the rule's basis) exactly (``DailyLossRoom``)."""
        return self._limit, -self._exact()

    def measure(self) -> Measure:
        loss = -self._approx()
        detail = f"{self.config.basis} today {money(-loss)}"
        return Measure(max(loss, 0.0), float(self._limit), "$", detail, self._tripped)

    def reset_daily(self) -> None:
        self._tripped = False
        self._note_realized()

    def export_state(self) -> dict[str, Any]:
        return {"tripped": self._tripped}

    def restore_state(self, state: Mapping[str, Any], *, same_day: bool) -> None:
        self._note_realized()  # today's counters were recounted from the journal
        if same_day:
            self._tripped = bool(state.get("tripped", False))
