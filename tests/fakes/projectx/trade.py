"""One execution (a "half-turn trade" in the API's words) on the fake platform."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from tests.fakes.projectx.contracts import ContractSpec
from tests.fakes.projectx.enums import OrderSide

__all__ = ["FakeTrade"]


@dataclass(frozen=True, slots=True)
class FakeTrade:
    id: int
    account_id: int
    contract: ContractSpec
    created_at: datetime
    price: Decimal
    profit_and_loss: Decimal | None  # None on a fill that only opened or added (a half-turn)
    fees: Decimal
    side: OrderSide
    size: int
    order_id: int
    voided: bool = False
