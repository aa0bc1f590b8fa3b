"""TransactionBook on a real SQLite file: the state the TradeManager and its event handler share."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from trading.clock import TestClock
from trading.model import Order, OrderRole, OrderSide, Transaction, TransactionStatus
from trading.storage import Database, TransactionRepository
from trading.trades._book import TransactionBook


@pytest.fixture
def book(tmp_path: Path) -> Iterator[TransactionBook]:
    db = Database(tmp_path / "desk.db", clock=TestClock())
    yield TransactionBook(TransactionRepository(db))
    db.close()


def _txn() -> Transaction:
    return Transaction(transaction_id="T-1", strategy="ma", symbol="ES", side=OrderSide.BUY, quantity=1.0)


def test_book_retire_drops_transaction_and_links_except_working_ones(book: TransactionBook) -> None:
    # Arrange
    txn = _txn()
    book.create(txn)
    book.add(txn)
    entry = Order(symbol="ES", side=OrderSide.BUY, quantity=1.0, role=OrderRole.ENTRY)
    leg = Order(symbol="ES", side=OrderSide.SELL, quantity=1.0, role=OrderRole.STOP_LOSS)
    book.link(entry, txn, "entry")
    book.link(leg, txn, "protect")
    book.progress(txn.transaction_id).entry_qty = 1.0
    txn.transition(TransactionStatus.CANCELLED)
    # Act
    book.retire(txn, still_working=lambda order_id: order_id == leg.order_id)
    # Assert
    assert "T-1" not in book and len(book) == 0 and book.progress_of("T-1") is None
    assert book.order_ids("T-1") == [leg.order_id]
    stored = book.stored("T-1")
    assert stored is not None and stored.status is TransactionStatus.CANCELLED


def test_book_own_cancel_is_expected_once(book: TransactionBook) -> None:
    book.expect_cancel("O-1")
    assert (book.cancel_was_expected("O-1"), book.cancel_was_expected("O-1")) == (True, False)


def test_book_working_order_finds_by_purpose(book: TransactionBook) -> None:
    txn = _txn()
    close = Order(symbol="ES", side=OrderSide.SELL, quantity=1.0, role=OrderRole.EXIT)
    book.link(close, txn, "close")
    assert book.working_order("T-1", ("reduce",)) is None
    found = book.working_order("T-1", ("close", "reduce"))
    assert found is not None and (found[0], found[1].purpose) == (close.order_id, "close")
