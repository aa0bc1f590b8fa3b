"""The journal: one transaction per broker step, exact money, nothing lost when a write fails."""

from __future__ import annotations

import logging
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from trading.model import (
    AccountRecord,
    FillRecord,
    JournalStep,
    Order,
    OrderRole,
    OrderSide,
    OrderStatus,
    OrderType,
    PositionRecord,
)
from trading.storage import Database, Journal, JournalReader
from trading.storage._schema import SCHEMA_VERSION

ROOT = Path(__file__).resolve().parents[3]
T0 = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)


def _order(order_id: str, status: OrderStatus = OrderStatus.ACCEPTED, **kw) -> Order:
    fields = {
        "symbol": "ES",
        "side": OrderSide.BUY,
        "quantity": 2,
        "order_type": OrderType.STOP_LIMIT,
        "price": 5001.0,
        "stop_price": 5000.0,
        "transaction_id": "T-1",
        "created_at": T0,
        "updated_at": T0,
    }
    fields.update(kw)
    return Order(order_id=order_id, status=status, **fields)


def _fill(fill_id: str, order_id: str = "O-1", *, minutes: int = 0, realized: str = "0") -> FillRecord:
    return FillRecord(
        fill_id=fill_id,
        order_id=order_id,
        symbol="ES",
        side=OrderSide.BUY,
        quantity=2.0,
        price=5000.25,
        commission=Decimal("4.10"),
        realized_pnl=Decimal(realized),
        position_quantity=2.0,
        role=OrderRole.ENTRY,
        strategy="ma",
        transaction_id="T-1",
        ts=T0 + timedelta(minutes=minutes),
    )


def _position(quantity: float = 2.0, realized: str = "0") -> PositionRecord:
    return PositionRecord(
        symbol="ES",
        quantity=quantity,
        avg_price=5000.25,
        cost_basis=Decimal("500025.00"),
        realized_pnl=Decimal(realized),
        commissions=Decimal("4.10"),
        last_price=5000.25,
        opened_at=T0,
        updated_at=T0,
        strategies=("ma",),
    )


def _account(
    realized: str = "0", commissions: str = "4.10", last_fill_id: str | None = "F-1"
) -> AccountRecord:
    return AccountRecord(
        starting_balance=Decimal("100000.00"),
        realized_pnl=Decimal(realized),
        commissions=Decimal(commissions),
        last_fill_id=last_fill_id,
        updated_at=T0,
    )


def _fill_step(n: int) -> JournalStep:
    filled = _order(f"O-{n}", OrderStatus.FILLED, filled_quantity=2.0, avg_fill_price=5000.25)
    return JournalStep(
        ts=T0,
        orders=(filled,),
        fills=(_fill(f"F-{n}", f"O-{n}", minutes=n),),
        positions=(_position(),),
        account=_account(commissions=str(Decimal("4.10") * n), last_fill_id=f"F-{n}"),
    )


@pytest.fixture
def journal(db: Database):
    made = Journal(db, account="paper")
    yield made
    made.close()


def _rows(db_path: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db_path) as raw:
        rows = raw.execute(sql).fetchall()
    raw.close()
    return rows


def test_journal_commit_writes_the_step_in_one_transaction_with_exact_money(journal, db_path) -> None:
    # Act
    problem = journal.commit(_fill_step(1))
    # Assert: readable at once by another connection, money as decimal text
    assert problem is None
    assert _rows(db_path, "SELECT order_id, status, triggered FROM orders") == [("O-1", "FILLED", 0)]
    assert _rows(db_path, "SELECT fill_id, commission_exact, realized_pnl, position_quantity FROM fills") == [
        ("F-1", "4.10", "0", 2.0)
    ]
    assert _rows(db_path, "SELECT symbol, quantity, cost_basis, commissions, strategies FROM positions") == [
        ("ES", 2.0, "500025.00", "4.10", '["ma"]')
    ]
    assert _rows(db_path, "SELECT name, starting_balance, commissions, last_fill_id FROM account") == [
        ("paper", "100000.00", "4.10", "F-1")
    ]
    assert journal.statistics().transactions == 1


def test_journal_load_returns_account_positions_and_only_working_orders(journal, db) -> None:
    # Arrange
    working = _order("O-2", OrderStatus.PARTIALLY_FILLED, filled_quantity=1.0, triggered=True)
    journal.commit(_fill_step(1))
    journal.commit(JournalStep(ts=T0, orders=(working, _order("O-3", OrderStatus.CANCELLED))))
    # Act
    view = JournalReader(db, account="paper").load()
    # Assert
    assert view.account == _account()
    assert view.account.cash == Decimal("99995.90")
    assert view.positions == (_position(),)
    [restored] = view.working_orders
    assert (restored.order_id, restored.status, restored.filled_quantity, restored.triggered) == (
        "O-2",
        OrderStatus.PARTIALLY_FILLED,
        1.0,
        True,
    )
    assert (restored.price, restored.stop_price, restored.transaction_id) == (5001.0, 5000.0, "T-1")


def test_journal_load_of_an_empty_journal_has_no_account(journal) -> None:
    view = journal.load()
    assert view.account is None and view.positions == () and view.working_orders == ()


def test_journal_same_step_written_twice_keeps_one_fill(journal, db_path) -> None:
    journal.commit(_fill_step(1))
    journal.commit(_fill_step(1))
    assert _rows(db_path, "SELECT COUNT(*) FROM fills") == [(1,)]


def test_journal_reader_fills_by_order_transaction_and_time_range(journal, db) -> None:
    for n in (1, 2, 3):
        journal.commit(_fill_step(n))
    reader = JournalReader(db)
    assert [f.fill_id for f in reader.fills(order_id="O-2")] == ["F-2"]
    assert [f.fill_id for f in reader.fills(transaction_id="T-1")] == ["F-1", "F-2", "F-3"]
    since, until = T0 + timedelta(minutes=2), T0 + timedelta(minutes=3)
    [fill] = reader.fills(since=since, until=until)
    assert fill == _fill("F-2", "O-2", minutes=2)
    assert [o.order_id for o in reader.orders(transaction_id="T-1")] == ["O-1", "O-2", "O-3"]


@pytest.fixture
def own_connection(db: Database):
    conn = db.engine.connect()
    yield conn
    conn.close()


def _disk_full(conn) -> None:
    """Make SQLite itself refuse to grow the file: every write needing a page fails SQLITE_FULL."""
    driver = conn.connection.driver_connection
    pages = driver.execute("PRAGMA page_count").fetchone()[0]
    driver.execute(f"PRAGMA max_page_count = {pages}")


def _disk_freed(conn) -> None:
    conn.connection.driver_connection.execute("PRAGMA max_page_count = 1073741823")


def test_journal_write_failure_holds_steps_in_order_and_writes_them_on_recovery(
    db, db_path, own_connection, caplog
) -> None:
    # Arrange: the journal on its own connection; then the database is full
    journal = Journal(db, connection=own_connection)
    journal.commit(_fill_step(1))
    _disk_full(own_connection)
    caplog.set_level(logging.WARNING, logger="trading.storage.journal")
    # Act: steps until the first write fails, and two more
    problems = [journal.commit(_fill_step(n)) for n in range(2, 400)]
    first = next(i for i, p in enumerate(problems) if p is not None)
    held_from = first + 2
    assert problems[first] == "journal write failed: database or disk is full"
    assert all(p is not None for p in problems[first:])
    assert journal.pending == 399 - held_from + 1
    assert journal.flush() is not None  # still full: nothing written, nothing lost
    _disk_freed(own_connection)
    # Assert: the next flush writes every held step, in order, in one transaction
    assert journal.flush() is None
    assert journal.pending == 0
    ids = [int(r[0].split("-")[1]) for r in _rows(db_path, "SELECT fill_id FROM fills ORDER BY id")]
    assert ids == list(range(1, 400))
    assert _rows(db_path, "SELECT last_fill_id FROM account") == [("F-399",)]
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "database or disk is full" in errors[0].getMessage()
    [recovered] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert recovered.getMessage().startswith(
        f"journal writes again: {399 - held_from + 1} held steps written"
    )
    stats = journal.statistics()
    assert (stats.outages, stats.pending, stats.last_error) == (1, 0, None)
    journal.close()


def test_journal_close_writes_what_it_holds(db, db_path, own_connection) -> None:
    journal = Journal(db, connection=own_connection)
    driver = own_connection.connection.driver_connection
    driver.set_authorizer(lambda action, *_: sqlite3.SQLITE_DENY if action == sqlite3.SQLITE_INSERT else 0)
    assert journal.commit(_fill_step(1)) == "journal write failed: not authorized"
    driver.set_authorizer(None)

    journal.close()

    assert _rows(db_path, "SELECT fill_id FROM fills") == [("F-1",)]


def test_journal_step_committed_survives_sigkill_right_after(tmp_path) -> None:
    # Arrange: a child process commits a step and kills itself before anything else runs
    path = tmp_path / "desk.db"
    code = (
        "import os, signal, sys\n"
        f"sys.path.insert(0, {str(ROOT)!r}); sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        "from test_journal import _fill_step\n"
        "from trading.storage import Database, Journal\n"
        f"journal = Journal(Database({str(path)!r}))\n"
        "assert journal.commit(_fill_step(7)) is None\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    # Act
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, timeout=60, check=False)
    # Assert
    assert proc.returncode == -9
    with Database(path) as db:
        view = JournalReader(db).load()
        assert view.account is not None and view.account.last_fill_id == "F-7"
        assert [f.fill_id for f in JournalReader(db).fills()] == ["F-7"]


def test_schema_migration_2_brings_a_version_1_file_to_the_journal_shape(db_path, caplog) -> None:
    # Arrange: a version-1 file (the v2 additions taken away) with a repeated fill id
    Database(db_path).close()
    with sqlite3.connect(db_path) as raw:
        for statement in (
            "DROP TABLE positions",
            "DROP TABLE account",
            "DROP TABLE rule_state",
            "DROP INDEX ux_fills_fill_id",
            "DROP INDEX ix_fills_ts",
            "ALTER TABLE fills DROP COLUMN realized_pnl",
            "ALTER TABLE fills DROP COLUMN commission_exact",
            "ALTER TABLE fills DROP COLUMN position_quantity",
            "ALTER TABLE orders DROP COLUMN triggered",
            "ALTER TABLE commands DROP COLUMN requester_role",  # v3
            "ALTER TABLE commands DROP COLUMN requester_address",
            "DELETE FROM schema_version WHERE version >= 2",
        ):
            raw.execute(statement)
        for _ in range(2):
            raw.execute(
                "INSERT INTO fills (fill_id, order_id, symbol, side, quantity, price, commission, role, "
                "strategy, transaction_id, ts) VALUES ('F-1', 'O-1', 'ES', 'BUY', 1, 5000.25, 2.05, 'ENTRY', "
                "'ma', NULL, '2026-01-05T14:30:00.000000+00:00')"
            )
    raw.close()
    caplog.set_level(logging.INFO)
    # Act
    with Database(db_path) as db:
        version = db.schema_version()
        fills = JournalReader(db).fills()
    # Assert
    assert version == SCHEMA_VERSION  # 2, then every later migration
    assert [f.fill_id for f in fills] == ["F-1", "F-1#2"]
    assert (fills[0].commission, fills[0].realized_pnl, fills[0].position_quantity) == (
        Decimal("2.05"),
        None,
        None,
    )
    assert "fills: 1 rows had a repeated fill_id; each now ends with '#<row id>'" in caplog.messages
    tables = {r[0] for r in _rows(db_path, "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"positions", "account", "rule_state"} <= tables


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Callable[[str], None]]:
    """A 512 KB tmpfs at ``tmp_path/disk`` (root only); yields how to resize it (``"4m"``)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if (
        os.geteuid() != 0
        or subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(mount)], capture_output=True, check=False
        ).returncode
    ):
        pytest.skip("needs root to mount a small tmpfs")

    def resize(size: str) -> None:
        subprocess.run(["mount", "-o", f"remount,size={size}", str(mount)], check=True)

    try:
        yield resize
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_journal_on_a_full_disk_holds_steps_and_writes_them_when_space_returns(tmp_path, small_disk) -> None:
    # Arrange: the database on a 512 KB file system
    db = Database(tmp_path / "disk" / "desk.db")
    journal = Journal(db)
    # Act: steps until the disk is full, then ten more
    problems: list[str | None] = []
    n = 0
    while problems.count(None) == len(problems) and n < 5000:
        n += 1
        problems.append(journal.commit(_fill_step(n)))
    for _ in range(10):
        n += 1
        problems.append(journal.commit(_fill_step(n)))
    # Assert: held, not lost; written once there is room again
    assert problems[-1] is not None and "full" in problems[-1]
    assert journal.pending == 11
    small_disk("8m")
    assert journal.flush() is None
    assert [f.fill_id for f in JournalReader(db).fills()] == [f"F-{i}" for i in range(1, n + 1)]
    journal.close()
    db.close()


def test_journal_checkpoints_on_its_own_thread_not_in_a_commit(journal, db_path) -> None:
    # Arrange / Act
    for n in range(1, 251):
        journal.commit(_fill_step(n))
    # Assert: its thread checkpointed, every 100 commits
    deadline = time.monotonic() + 30
    while journal.statistics().checkpoints < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert journal.statistics().checkpoints >= 2
    assert _rows(db_path, "SELECT COUNT(*) FROM fills") == [(250,)]
