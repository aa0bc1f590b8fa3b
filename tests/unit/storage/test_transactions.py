from __future__ import annotations

import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from trading.model import OrderSide, Transaction, TransactionStatus
from trading.storage import Database, DuplicatePositionError, TransactionRepository

ROOT = Path(__file__).resolve().parents[3]
T0 = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)


def _txn(txn_id: str, *, strategy: str = "ma_cross", symbol: str = "ES") -> Transaction:
    return Transaction(
        transaction_id=txn_id,
        strategy=strategy,
        symbol=symbol,
        side=OrderSide.BUY,
        quantity=2.0,
        take_profit=5010.0,
        stop_loss=4990.0,
        created_at=T0,
    )


def test_transaction_repository_create_get_round_trips_every_field(db: Database) -> None:
    # Arrange
    repo = TransactionRepository(db)
    txn = _txn("T-1")
    # Act
    repo.create(txn)
    txn.entry_price = 5000.25
    txn.transition(TransactionStatus.OPENED, T0)
    repo.update(txn)
    # Assert
    assert repo.get("T-1") == txn
    assert repo.get("missing") is None


def test_transaction_repository_second_active_same_strategy_symbol_raises_duplicate(db: Database) -> None:
    # Arrange
    repo = TransactionRepository(db)
    repo.create(_txn("T-1"))
    # Act / Assert
    with pytest.raises(
        DuplicatePositionError, match="strategy 'ma_cross' already has WAITING transaction T-1 on ES"
    ) as info:
        repo.create(_txn("T-2"))
    assert (info.value.existing_id, info.value.symbol) == ("T-1", "ES")
    assert repo.get("T-2") is None


def test_transaction_repository_other_strategy_or_symbol_is_not_a_duplicate(db: Database) -> None:
    repo = TransactionRepository(db)
    repo.create(_txn("T-1"))
    repo.create(_txn("T-2", strategy="mean_rev"))
    repo.create(_txn("T-3", symbol="NQ"))
    assert [t.transaction_id for t in repo.active()] == ["T-1", "T-2", "T-3"]
    assert [t.transaction_id for t in repo.active("mean_rev")] == ["T-2"]


def test_transaction_repository_after_close_new_transaction_is_allowed(db: Database) -> None:
    # Arrange
    repo = TransactionRepository(db)
    first = _txn("T-1")
    repo.create(first)
    first.transition(TransactionStatus.CANCELLED, T0)
    repo.update(first)
    # Act
    repo.create(_txn("T-2"))
    # Assert
    assert [t.transaction_id for t in repo.active()] == ["T-2"]
    assert {t.transaction_id for t in repo.recent()} == {"T-1", "T-2"}


def test_transaction_repository_same_id_twice_is_refused(db: Database) -> None:
    repo = TransactionRepository(db)
    repo.create(_txn("T-1", symbol="ES"))
    with pytest.raises(ValueError, match="transaction 'T-1' already exists"):
        repo.create(_txn("T-1", symbol="NQ"))


def test_transaction_repository_update_unknown_raises_key_error(db: Database) -> None:
    with pytest.raises(KeyError, match="transaction 'T-9' does not exist"):
        TransactionRepository(db).update(_txn("T-9"))


def test_transaction_repository_many_threads_racing_exactly_one_created(db: Database) -> None:
    # Arrange
    repo = TransactionRepository(db)
    barrier = threading.Barrier(12)
    outcomes: list[str] = []

    def create(n: int) -> None:
        barrier.wait()
        try:
            repo.create(_txn(f"T-{n}"))
            outcomes.append("created")
        except DuplicatePositionError:
            outcomes.append("duplicate")

    # Act
    threads = [threading.Thread(target=create, args=(n,)) for n in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Assert
    assert sorted(outcomes) == ["created"] + ["duplicate"] * 11
    assert len(repo.active()) == 1


def test_transaction_repository_two_processes_racing_exactly_one_created(db: Database, db_path: Path) -> None:
    # Arrange: each process tries 40 symbols; for each symbol only one process may win
    code = f"""
import sys
from datetime import UTC, datetime
from trading.model import OrderSide, Transaction
from trading.storage import Database, DuplicatePositionError, TransactionRepository
db = Database({str(db_path)!r})
repo = TransactionRepository(db)
won = 0
for i in range(40):
    txn = Transaction(transaction_id=f"T-{{sys.argv[1]}}-{{i}}", strategy="s", symbol=f"SYM{{i}}",
                      side=OrderSide.BUY, quantity=1.0, created_at=datetime.now(UTC))
    try:
        repo.create(txn)
        won += 1
    except DuplicatePositionError:
        pass
print(won)
db.close()
"""
    # Act
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(n)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
        for n in range(2)
    ]
    wins = [int(p.communicate(timeout=60)[0]) for p in procs]
    # Assert
    assert sum(wins) == 40
    assert len(TransactionRepository(db).active("s")) == 40
