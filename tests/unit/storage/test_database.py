from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from trading.errors import StorageError
from trading.storage import Database, KeyValueRepository
from trading.storage._schema import SCHEMA_VERSION

ROOT = Path(__file__).resolve().parents[3]


def test_database_new_file_creates_schema_in_wal_mode(db: Database, db_path: Path) -> None:
    # Act
    version = db.schema_version()
    # Assert
    assert version == SCHEMA_VERSION == 3
    with sqlite3.connect(db_path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {row[0] for row in raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    raw.close()
    assert {"orders", "fills", "transactions", "jobs", "violations", "commands", "activity"} <= tables


def test_database_reopen_does_not_migrate_again(db_path: Path) -> None:
    # Arrange
    Database(db_path).close()
    # Act
    with Database(db_path) as again:
        rows = again.read(
            lambda conn: conn.exec_driver_sql("SELECT COUNT(*) FROM schema_version").scalar_one()
        )
    # Assert: one row per migration, none repeated
    assert rows == SCHEMA_VERSION


def test_database_newer_schema_version_is_refused(db_path: Path) -> None:
    # Arrange
    Database(db_path).close()
    with sqlite3.connect(db_path) as raw:
        raw.execute("INSERT INTO schema_version VALUES (99, '2030-01-01T00:00:00+00:00')")
    raw.close()
    # Act / Assert
    with pytest.raises(StorageError, match="schema version 99 is newer than this code understands"):
        Database(db_path)


def test_database_two_processes_opening_fresh_file_migrate_once(tmp_path: Path) -> None:
    # Arrange
    path = tmp_path / "race.db"
    code = f"from trading.storage import Database\nDatabase({str(path)!r}).close()\n"
    # Act
    procs = [subprocess.Popen([sys.executable, "-c", code], cwd=ROOT) for _ in range(3)]
    codes = [p.wait(timeout=60) for p in procs]
    # Assert
    assert codes == [0, 0, 0]
    with Database(path) as db:
        rows = db.read(lambda c: c.exec_driver_sql("SELECT COUNT(*) FROM schema_version").scalar_one())
        assert rows == SCHEMA_VERSION  # one row per migration, none repeated


def test_database_write_while_other_connection_holds_lock_retries_and_succeeds(db_path: Path) -> None:
    # Arrange: a short busy timeout, and another connection holding the write lock for a while
    db = Database(db_path, busy_timeout_ms=20)
    kv = KeyValueRepository(db)
    blocker = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
    blocker.execute("BEGIN IMMEDIATE")
    release = threading.Timer(0.3, lambda: blocker.execute("COMMIT"))
    release.start()
    try:
        # Act
        kv.put("account", {"cash": 1.0})
    finally:
        release.join()
        blocker.close()
    # Assert
    assert kv.get("account") == {"cash": 1.0}
    assert db.statistics().retries > 0
    db.close()


def test_database_lock_held_past_deadline_raises_storage_error_not_locked(db_path: Path) -> None:
    # Arrange
    db = Database(db_path, busy_timeout_ms=10, retry_deadline=0.2)
    blocker = sqlite3.connect(db_path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        # Act / Assert
        with pytest.raises(StorageError, match=r"still busy after \d+ attempts"):
            KeyValueRepository(db).put("k", {"v": 1})
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
        db.close()
    assert db.statistics().failures == 1


def test_database_memory_url_works_across_threads() -> None:
    # Arrange
    with Database("sqlite://") as db:
        kv = KeyValueRepository(db)
        # Act
        threads = [threading.Thread(target=kv.put, args=(f"k{i}", {"i": i})) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        # Assert
        assert [kv.get(f"k{i}") for i in range(8)] == [{"i": i} for i in range(8)]


def test_database_closed_refuses_use_with_clear_error(db: Database) -> None:
    # Arrange
    db.close()
    # Act / Assert
    with pytest.raises(StorageError, match="is closed"):
        db.schema_version()


def test_database_bad_busy_timeout_is_refused(db_path: Path) -> None:
    with pytest.raises(ValueError, match="busy_timeout_ms must be an int >= 0, got -1"):
        Database(db_path, busy_timeout_ms=-1)


def test_database_repr_shows_path_and_state(db: Database, db_path: Path) -> None:
    assert repr(db) == f"Database({str(db_path)!r}, open, busy_timeout_ms=5000)"
