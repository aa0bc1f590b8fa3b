"""A state directory whose database and state file do not belong together refuses the start,
naming both files and the command that starts a fresh account on purpose; that command
archives the old files and starts."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from trading.desk import Desk
from trading.desk.books_check import archive_state_files, check_books_pair
from trading.desk.preflight import check_desk
from trading.errors import InconsistentStateError
from trading.memory import StateManager
from trading.state_dir import StateDir
from trading.storage import Database, JournalReader

from .conftest import ROOT, write_configs

EXECUTOR = ROOT / "scripts" / "run_executor.py"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_configs(tmp_path / "config")


@pytest.fixture
async def used_state(make_desk, tmp_path: Path) -> StateDir:
    """A state directory a desk has traded on and stopped cleanly (books and a snapshot)."""
    desk = make_desk()
    await desk.run_simulated(60)
    await desk.shutdown()
    return StateDir(tmp_path / "state")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(EXECUTOR), *args], capture_output=True, text=True, timeout=120, cwd=ROOT
    )


def _one_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    return lines[0]


def test_books_check_empty_database_next_to_state_file_refuses_naming_both(used_state, config):
    # Arrange: the database loses its books (an emptied file), the state file keeps the snapshot
    used_state.database.write_bytes(b"")
    # Act / Assert
    with pytest.raises(InconsistentStateError) as caught:
        Desk.from_files(config, state_dir=used_state.root)
    message = str(caught.value)
    assert f"{used_state.database} is empty (no account books)" in message
    assert f"state file {used_state.state_file} holds a snapshot" in message
    assert f"scripts/run_executor.py --new-account --state {used_state.root}" in message
    assert caught.value.database == used_state.database and caught.value.state_file == used_state.state_file
    with sqlite3.connect(used_state.database) as conn:  # nothing was written: no fresh account row
        assert conn.execute("SELECT COUNT(*) FROM account").fetchone() == (0,)
    conn.close()


def test_books_check_missing_database_next_to_state_file_refuses(used_state, config):
    used_state.database.unlink()
    for extra in used_state.root.glob("desk.db-*"):
        extra.unlink()

    with pytest.raises(InconsistentStateError, match=r"desk\.db is missing while the state file .* holds"):
        Desk.from_files(config, state_dir=used_state.root)

    assert not used_state.database.exists()


def test_books_check_account_rows_deleted_refuses(used_state, config):
    with sqlite3.connect(used_state.database) as conn:
        conn.execute("DELETE FROM account")
    conn.close()

    with pytest.raises(InconsistentStateError, match=r"is empty \(no account books\)"):
        Desk.from_files(config, state_dir=used_state.root)


def test_books_check_state_file_missing_refuses_naming_both(used_state, config):
    used_state.state_file.unlink()

    with pytest.raises(InconsistentStateError) as caught:
        Desk.from_files(config, state_dir=used_state.root)

    message = str(caught.value)
    assert f"{used_state.database} holds the books of account 'demo'" in message
    assert f"the state file {used_state.state_file} is missing" in message
    assert "--new-account" in message


def test_books_check_renamed_account_refuses(used_state, tmp_path):
    renamed = write_configs(
        tmp_path / "renamed", desk={"account": {"name": "other", "starting_balance": 100000}}
    )

    with pytest.raises(InconsistentStateError, match=r"holds the books of account 'demo', not 'other'"):
        Desk.from_files(renamed, state_dir=used_state.root)


def test_books_check_unreadable_state_file_with_empty_database_refuses(tmp_path):
    # Arrange: a state file nobody can read (it may hold an account), no database
    layout = StateDir(tmp_path / "state")
    layout.root.mkdir()
    layout.state_file.write_bytes(b"not a state file at all")
    # Act / Assert
    with pytest.raises(InconsistentStateError, match="is missing while the state file"):
        check_books_pair(layout, "demo")


async def test_books_check_empty_state_file_and_no_database_starts_fresh(config, tmp_path):
    # Arrange: what a desk killed between its empty state file and its first account row leaves
    layout = StateDir(tmp_path / "state")
    layout.root.mkdir()
    StateManager(layout.state_file, load=False).save()
    # Act
    desk = Desk.from_files(config, state_dir=layout.root)
    await desk.shutdown()
    # Assert
    db = Database(layout.database)
    account = JournalReader(db, account="demo").account()
    db.close()
    assert account is not None and account.cash == Decimal("100000")


async def test_books_check_fresh_state_directory_starts_and_writes_state_file_before_books(config, tmp_path):
    layout = StateDir(tmp_path / "fresh")

    assert check_desk(config, state_dir=layout.root)[-1] == f"state directory {layout.root}"
    desk = Desk.from_files(config, state_dir=layout.root)
    try:
        # the pair is consistent from the first account row on, before any snapshot
        assert layout.state_file.exists()
        check_books_pair(layout, "demo")
    finally:
        await desk.shutdown()
    check_books_pair(layout, "demo")


def test_books_check_check_desk_refuses_the_same_way(used_state, config):
    used_state.state_file.unlink()

    with pytest.raises(InconsistentStateError, match="is missing: they belong together"):
        check_desk(config, state_dir=used_state.root)

    assert check_desk(config, state_dir=used_state.root, books=False)  # the rest passes


def test_books_check_archive_moves_the_account_files_never_deletes(used_state):
    # Arrange
    before = {p.name for p in used_state.root.iterdir() if p.is_file()}
    now = datetime(2026, 11, 24, 15, 30, 5, tzinfo=UTC)
    # Act
    folder = archive_state_files(used_state, now=now)
    # Assert
    assert folder == used_state.root / "archive-20261124T153005Z"
    moved = {p.name for p in folder.iterdir()}
    assert {"desk.db", "state.pkl", "heartbeat.json"} <= moved
    assert moved | {p.name for p in used_state.root.iterdir() if p.is_file()} == before
    assert not used_state.database.exists() and not used_state.state_file.exists()
    assert archive_state_files(used_state, now=now) is None  # nothing left to move


@pytest.mark.slow
def test_books_check_process_empty_database_exits_2_then_new_account_archives_and_starts(used_state, config):
    # Arrange
    used_state.database.write_bytes(b"")
    # Act: refused, one line
    line = _one_line(_run("--config", str(config), "--state", str(used_state.root)))
    # Assert
    assert line.startswith("run_executor.py: error: ")
    assert str(used_state.database) in line and str(used_state.state_file) in line
    assert "scripts/run_executor.py --new-account" in line
    assert _one_line(_run("--check", "--config", str(config), "--state", str(used_state.root))) == line
    # Act: a fresh account on purpose
    started = _run(
        "--new-account", "--config", str(config), "--state", str(used_state.root), "--duration", "1"
    )
    # Assert: old files archived, a fresh account at the configured balance
    assert started.returncode == 0, started.stderr
    archives = list(used_state.root.glob("archive-*"))
    assert len(archives) == 1 and (archives[0] / "state.pkl").exists() and (archives[0] / "desk.db").exists()
    assert "new account: moved" in started.stderr
    db = Database(used_state.database)
    account = JournalReader(db, account="demo").account()
    db.close()
    assert account is not None and account.cash == Decimal("100000")
