"""Transactions, with the duplicate-position guard enforced by the database.

A UNIQUE partial index on ``(strategy, symbol) WHERE status IN ('WAITING', 'OPENED')``
makes a second active transaction for the same strategy and symbol impossible, whatever
the number of threads or processes racing to create it.
"""

from __future__ import annotations

from sqlalchemy import Connection, RowMapping, insert, select, update
from sqlalchemy.exc import IntegrityError

from trading.errors import TradingError
from trading.model import OrderSide, Transaction, TransactionStatus
from trading.storage._codec import from_iso, to_iso
from trading.storage._schema import transactions
from trading.storage._sql import check_limit
from trading.storage.database import Database

__all__ = ["DuplicatePositionError", "TransactionRepository"]

_ACTIVE = (TransactionStatus.WAITING.value, TransactionStatus.OPENED.value)
_TIMES = ("created_at", "opened_at", "closed_at")


class DuplicatePositionError(TradingError):
    """A strategy already has an active (WAITING or OPENED) transaction on that symbol."""

    def __init__(
        self, strategy: str, symbol: str, existing_id: str | None, existing_status: str | None
    ) -> None:
        existing = f"{existing_status} transaction {existing_id}" if existing_id else "an active transaction"
        super().__init__(f"strategy {strategy!r} already has {existing} on {symbol}")
        self.strategy = strategy
        self.symbol = symbol
        self.existing_id = existing_id
        self.existing_status = existing_status


class TransactionRepository:
    """Stores ``Transaction`` objects; every method returns fresh copies."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def create(self, txn: Transaction) -> None:
        """Insert a new transaction; ``DuplicatePositionError`` if the strategy already has an
        active one on the symbol, ``ValueError`` if the id exists."""
        values = _values(txn)

        def work(conn: Connection) -> None:
            conn.execute(insert(transactions).values(**values))

        try:
            self._db.write(work)
        except IntegrityError as exc:
            raise self._integrity_error(txn, exc) from exc

    def update(self, txn: Transaction) -> None:
        """Store the transaction's current fields; ``KeyError`` if it was never created."""
        values = _values(txn)
        del values["transaction_id"]
        stmt = (
            update(transactions).where(transactions.c.transaction_id == txn.transaction_id).values(**values)
        )
        try:
            count = self._db.write(lambda conn: conn.execute(stmt).rowcount)
        except IntegrityError as exc:
            raise self._integrity_error(txn, exc) from exc
        if count == 0:
            raise KeyError(f"transaction {txn.transaction_id!r} does not exist: create() it first")

    def get(self, transaction_id: str) -> Transaction | None:
        query = select(transactions).where(transactions.c.transaction_id == transaction_id)
        row = self._db.read(lambda conn: conn.execute(query).mappings().first())
        return None if row is None else _transaction(row)

    def active(self, strategy: str | None = None) -> list[Transaction]:
        """WAITING and OPENED transactions, oldest first."""
        query = select(transactions).where(transactions.c.status.in_(_ACTIVE))
        if strategy is not None:
            query = query.where(transactions.c.strategy == strategy)
        query = query.order_by(transactions.c.created_at, transactions.c.transaction_id)
        rows = self._db.read(lambda conn: conn.execute(query).mappings().all())
        return [_transaction(row) for row in rows]

    def recent(self, limit: int = 100) -> list[Transaction]:
        """Newest first."""
        check_limit(limit)
        query = (
            select(transactions)
            .order_by(transactions.c.created_at.desc(), transactions.c.transaction_id.desc())
            .limit(limit)
        )
        rows = self._db.read(lambda conn: conn.execute(query).mappings().all())
        return [_transaction(row) for row in rows]

    def _integrity_error(self, txn: Transaction, exc: IntegrityError) -> Exception:
        message = str(exc.orig)
        if "transactions.strategy" in message or "ux_transactions_active" in message:
            query = (
                select(transactions.c.transaction_id, transactions.c.status)
                .where(transactions.c.strategy == txn.strategy, transactions.c.symbol == txn.symbol)
                .where(transactions.c.status.in_(_ACTIVE))
                .where(transactions.c.transaction_id != txn.transaction_id)
            )
            row = self._db.read(lambda conn: conn.execute(query).first())
            existing_id, status = (row[0], row[1]) if row is not None else (None, None)
            return DuplicatePositionError(txn.strategy, txn.symbol, existing_id, status)
        if "transaction_id" in message or "transactions_pkey" in message:
            return ValueError(f"transaction {txn.transaction_id!r} already exists")
        return exc

    def __repr__(self) -> str:
        return f"TransactionRepository({self._db!r})"


def _values(txn: Transaction) -> dict[str, object]:
    if not isinstance(txn, Transaction):
        raise TypeError(f"needs a Transaction, got {type(txn).__name__}")
    if not isinstance(txn.side, OrderSide):
        raise ValueError(f"transaction {txn.transaction_id}: side must be an OrderSide, got {txn.side!r}")
    if not isinstance(txn.status, TransactionStatus):
        raise ValueError(
            f"transaction {txn.transaction_id}: status must be a TransactionStatus, got {txn.status!r}"
        )
    if not txn.transaction_id or not txn.strategy or not txn.symbol:
        raise ValueError("transaction_id, strategy and symbol must not be empty")
    return {
        "transaction_id": txn.transaction_id,
        "strategy": txn.strategy,
        "symbol": txn.symbol,
        "side": txn.side.value,
        "quantity": float(txn.quantity),
        "status": txn.status.value,
        "entry_order_id": txn.entry_order_id,
        "entry_price": txn.entry_price,
        "exit_price": txn.exit_price,
        "take_profit": txn.take_profit,
        "stop_loss": txn.stop_loss,
        "tp_order_id": txn.tp_order_id,
        "sl_order_id": txn.sl_order_id,
        "realized_pnl": float(txn.realized_pnl),
        "commissions": float(txn.commissions),
        "created_at": to_iso(txn.created_at, field="transaction.created_at"),
        "opened_at": to_iso(txn.opened_at, field="transaction.opened_at"),
        "closed_at": to_iso(txn.closed_at, field="transaction.closed_at"),
        "use_case": txn.use_case,
        "reason": txn.reason,
    }


def _transaction(row: RowMapping) -> Transaction:
    data = dict(row)
    for name in _TIMES:
        data[name] = from_iso(data[name])
    data["side"] = OrderSide(data["side"])
    data["status"] = TransactionStatus(data["status"])
    return Transaction(**data)
