"""One order on the fake platform, in the state the engine keeps for it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Literal

from tests.fakes.projectx.contracts import ContractSpec
from tests.fakes.projectx.enums import OrderSide, OrderStatus, OrderType

__all__ = ["BracketSpec", "FakeOrder", "OrderSource"]

ZERO = Decimal(0)
PRICE_QUANTUM = Decimal("0.000000001")  # averages are shown to 9 decimals, as the API shows prices

# api: /api/Order/place; hand: the platform's UI; bracket: a stop-loss / take-profit leg the
# platform created; close: /api/Position/closeContract or partialCloseContract
OrderSource = Literal["api", "hand", "bracket", "close"]


@dataclass(frozen=True, slots=True)
class BracketSpec:
    """``stopLossBracket`` / ``takeProfitBracket``: signed ticks from the entry's fill price."""

    ticks: int
    type: OrderType


@dataclass(eq=False, slots=True)
class FakeOrder:
    id: int
    account_id: int
    contract: ContractSpec
    type: OrderType
    side: OrderSide
    size: int
    limit_price: Decimal | None
    stop_price: Decimal | None
    custom_tag: str | None
    created_at: datetime
    updated_at: datetime
    source: OrderSource
    status: OrderStatus = OrderStatus.OPEN
    fill_volume: int = 0
    filled_value: Decimal = ZERO
    stop_loss: BracketSpec | None = None
    take_profit: BracketSpec | None = None
    parent_id: int | None = None  # the entry order of a bracket leg
    sibling_id: int | None = None  # the other leg of the same bracket (one cancels the other)
    leg_ids: list[int] = field(default_factory=list)

    def __repr__(self) -> str:
        return (
            f"FakeOrder({self.id}, {self.contract.id}, {self.side.name} {self.type.name} "
            f"{self.fill_volume}/{self.size}, {self.status.name}, {self.source})"
        )

    @property
    def is_open(self) -> bool:
        return self.status in (OrderStatus.OPEN, OrderStatus.PENDING)

    @property
    def remaining(self) -> int:
        return self.size - self.fill_volume

    @property
    def filled_price(self) -> Decimal | None:
        """The average price of the fills so far; None before the first fill."""
        if not self.fill_volume:
            return None
        return (self.filled_value / self.fill_volume).quantize(PRICE_QUANTUM).normalize()

    @property
    def has_brackets(self) -> bool:
        return self.stop_loss is not None or self.take_profit is not None

    def touch(self, now: datetime) -> None:
        self.updated_at = now
