"""One order as the fake broker keeps it: Alpaca's order fields plus the links a group needs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

__all__ = ["CLOSED_STATUSES", "FakeOrder"]

# Statuses after which an order never changes again (Alpaca's "closed" orders).
CLOSED_STATUSES = frozenset({"filled", "canceled", "expired", "replaced", "rejected"})


@dataclass(eq=False)
class FakeOrder:
    """Mutable state of one order. The engine owns every instance and changes it under its lock."""

    id: str
    client_order_id: str
    symbol: str
    asset_id: str
    side: str  # "buy" | "sell"
    type: str  # "market" | "limit" | "stop" | "stop_limit"
    qty: Decimal
    time_in_force: str
    order_class: str  # "simple" | "bracket" | "oco" | "oto"
    position_intent: str
    created_at: datetime
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    extended_hours: bool = False
    status: str = "accepted"
    updated_at: datetime | None = None
    filled_qty: Decimal = Decimal(0)
    filled_value: Decimal = Decimal(0)  # sum of qty x price over fills: the average's numerator
    filled_at: datetime | None = None
    canceled_at: datetime | None = None
    expired_at: datetime | None = None
    failed_at: datetime | None = None
    replaced_at: datetime | None = None
    replaced_by: str | None = None
    replaces: str | None = None
    stop_triggered: bool = False
    parent_id: str | None = None  # set on the legs of a bracket / oco / oto order
    leg_ids: list[str] = field(default_factory=list)
    oco_group: str | None = None  # orders sharing a group cancel each other on the first fill
    source: str = "api"  # "api" (REST) or "hand" (placed by the test as if from the web UI)

    @property
    def is_open(self) -> bool:
        return self.status not in CLOSED_STATUSES

    @property
    def is_working(self) -> bool:
        """Open and able to fill now (a bracket leg is ``held`` until its parent fills)."""
        return self.is_open and self.status != "held"

    @property
    def remaining(self) -> Decimal:
        return self.qty - self.filled_qty

    @property
    def filled_avg_price(self) -> Decimal | None:
        if not self.filled_qty:
            return None
        return self.filled_value / self.filled_qty

    def touch(self, now: datetime) -> None:
        self.updated_at = now
