"""A strategy's trade from entry to exit, with its lifecycle table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from trading.errors import InvalidStateTransition
from trading.model.enums import OrderSide, TransactionStatus

__all__ = ["TRANSACTION_STATE_TABLE", "Transaction"]

_T = TransactionStatus
TRANSACTION_STATE_TABLE: dict[TransactionStatus, frozenset[TransactionStatus]] = {
    _T.WAITING: frozenset({_T.OPENED, _T.CANCELLED}),
    _T.OPENED: frozenset({_T.CLOSED}),
    _T.CLOSED: frozenset(),
    _T.CANCELLED: frozenset(),
}


@dataclass(slots=True, kw_only=True)
class Transaction:
    transaction_id: str
    strategy: str
    symbol: str
    side: OrderSide
    quantity: float
    status: TransactionStatus = TransactionStatus.WAITING
    entry_order_id: str | None = None
    entry_price: float | None = None
    exit_price: float | None = None
    take_profit: float | None = None
    stop_loss: float | None = None
    tp_order_id: str | None = None
    sl_order_id: str | None = None
    realized_pnl: float = 0.0
    commissions: float = 0.0
    created_at: datetime | None = None
    opened_at: datetime | None = None
    closed_at: datetime | None = None
    use_case: str = "default"
    reason: str = ""

    def transition(self, target: TransactionStatus, when: datetime | None = None) -> None:
        if target not in TRANSACTION_STATE_TABLE[self.status]:
            raise InvalidStateTransition("transaction", self.status, target)
        self.status = target
        if when is not None:
            if target is TransactionStatus.OPENED:
                self.opened_at = when
            elif target in (TransactionStatus.CLOSED, TransactionStatus.CANCELLED):
                self.closed_at = when
