"""``TransactionBook``: the state the trade manager and its event handler share.

The book holds the active (WAITING and OPENED) transactions, what each of our working
orders is for, the fills accumulated per transaction, the order ids we cancel ourselves,
the counters behind ``TradeManager.statistics()``, and the one ``RLock`` that guards all
of it. It persists transactions through the ``TransactionRepository`` and writes rows to
the activity log. It never talks to the broker: the objects that hold it do.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from trading.model import Order, OrderRole, Transaction
from trading.storage import ActivityLog, TransactionRepository

__all__ = ["Link", "Progress", "TransactionBook"]

ACTIVITY_SOURCE = "trade_manager"


@dataclass(slots=True)
class Link:
    """What one of our orders is for."""

    transaction_id: str
    role: OrderRole
    purpose: str  # "entry", "add", "protect", "reduce" or "close"


@dataclass(slots=True)
class Progress:
    """Fills accumulated for one transaction."""

    entry_qty: float = 0.0
    entry_value: float = 0.0
    exit_qty: float = 0.0
    exit_value: float = 0.0
    closing_qty: float = 0.0  # exited by TP, SL or a close (not by reductions)


class TransactionBook:
    """Active transactions, order links, fill progress, own cancels and counters.

    Callers take ``lock`` (re-entrant) around every read-modify-write of the book."""

    def __init__(self, transactions: TransactionRepository, activity: ActivityLog | None = None) -> None:
        self.lock = threading.RLock()
        self._repo = transactions
        self._activity = activity
        self._txns: dict[str, Transaction] = {}  # active transactions by id
        self._links: dict[str, Link] = {}  # our working (or just submitted) orders by order id
        self._progress: dict[str, Progress] = {}
        self._own_cancels: set[str] = set()  # order ids we cancel ourselves: their OrderCancelled is expected
        self._last_fill_was_entry: dict[str, bool] = {}  # by symbol: did the latest fill open one of ours?
        self._counts: Counter[str] = Counter()

    # --- transactions ------------------------------------------------------------

    def get(self, transaction_id: str) -> Transaction | None:
        return self._txns.get(transaction_id)

    def __contains__(self, transaction_id: object) -> bool:
        return transaction_id in self._txns

    def __len__(self) -> int:
        return len(self._txns)

    def transactions(self, *, strategy: str | None = None, symbol: str | None = None) -> list[Transaction]:
        """The active transactions themselves (not copies), optionally of one strategy or symbol."""
        return [
            t
            for t in self._txns.values()
            if (strategy is None or t.strategy == strategy) and (symbol is None or t.symbol == symbol)
        ]

    def add(self, txn: Transaction) -> None:
        self._txns[txn.transaction_id] = txn

    def retire(self, txn: Transaction, *, still_working: Callable[[str], bool]) -> None:
        """Save ``txn`` (now CLOSED or CANCELLED) and drop it, its progress, and the links of its
        orders that no longer work (a leg still working keeps its link until its own event)."""
        self.save(txn)
        self._txns.pop(txn.transaction_id, None)
        self._progress.pop(txn.transaction_id, None)
        for order_id in self.order_ids(txn.transaction_id):
            if not still_working(order_id):
                del self._links[order_id]

    # --- persistence -------------------------------------------------------------

    def create(self, txn: Transaction) -> None:
        """Store a new transaction; ``DuplicatePositionError`` when the strategy already has one
        WAITING or OPENED on the symbol."""
        self._repo.create(txn)

    def save(self, txn: Transaction) -> None:
        self._repo.update(txn)

    def stored(self, transaction_id: str) -> Transaction | None:
        return self._repo.get(transaction_id)

    def stored_active(self) -> list[Transaction]:
        return self._repo.active()

    # --- order links -------------------------------------------------------------

    def link(self, order: Order, txn: Transaction, purpose: str) -> None:
        self._links[order.order_id] = Link(txn.transaction_id, order.role, purpose)

    def relink(self, order_id: str, txn: Transaction, role: OrderRole, purpose: str) -> None:
        """Link an order known only by id (a working order found after a restart)."""
        self._links[order_id] = Link(txn.transaction_id, role, purpose)

    def link_of(self, order_id: str) -> Link | None:
        return self._links.get(order_id)

    def unlink(self, order_id: str) -> Link | None:
        return self._links.pop(order_id, None)

    def order_ids(self, transaction_id: str) -> list[str]:
        return [oid for oid, link in self._links.items() if link.transaction_id == transaction_id]

    def working_order(self, transaction_id: str, purposes: Iterable[str]) -> tuple[str, Link] | None:
        """One of the transaction's linked orders with one of ``purposes``, or None."""
        wanted = frozenset(purposes)
        for order_id, link in self._links.items():
            if link.transaction_id == transaction_id and link.purpose in wanted:
                return order_id, link
        return None

    # --- fills and cancels -------------------------------------------------------

    def progress(self, transaction_id: str) -> Progress:
        """The transaction's fill progress, created empty on first use."""
        return self._progress.setdefault(transaction_id, Progress())

    def progress_of(self, transaction_id: str) -> Progress | None:
        return self._progress.get(transaction_id)

    def note_fill(self, symbol: str, *, opened_ours: bool) -> None:
        self._last_fill_was_entry[symbol] = opened_ours

    def last_fill_opened_ours(self, symbol: str) -> bool:
        return self._last_fill_was_entry.get(symbol, False)

    def expect_cancel(self, order_id: str) -> None:
        self._own_cancels.add(order_id)

    def cancel_was_expected(self, order_id: str) -> bool:
        """True (once) when we cancelled ``order_id`` ourselves."""
        expected = order_id in self._own_cancels
        self._own_cancels.discard(order_id)
        return expected

    # --- counters and the activity log -------------------------------------------

    def bump(self, name: str, by: int = 1) -> None:
        with self.lock:
            self._counts[name] += by

    def count(self, name: str) -> int:
        return self._counts[name]

    def record(self, level: int, message: str, *, source: str = ACTIVITY_SOURCE, **details: Any) -> None:
        """One activity-log row (when the desk has an activity log)."""
        if self._activity is not None:
            self._activity.log_activity(logging.getLevelName(level), source, message, **details)

    def __repr__(self) -> str:
        return f"TransactionBook(active={len(self._txns)}, links={len(self._links)})"
