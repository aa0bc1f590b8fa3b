"""A desk whose database disk fills up: the journal holds its steps, the heartbeat and the
snapshot say the desk is degraded, the heartbeat step writes the held steps once there is room
again, and a stop on a failing disk still returns normally."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from trading.model import Order, OrderSide, OrderType
from trading.state_dir import Heartbeat

FILLER_CHUNK = b"\0" * 65536


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 32 MB tmpfs at ``tmp_path/disk`` (root only)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if (
        os.geteuid() != 0
        or subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=32m", "tmpfs", str(mount)], capture_output=True, check=False
        ).returncode
    ):
        pytest.skip("needs root to mount a small tmpfs")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(disk: Path) -> Path:
    """Fill the disk; the database's WAL is emptied first, so its next write needs new room
    (SQLite rewrites a checkpointed WAL in place, which a full disk does not stop)."""
    with sqlite3.connect(disk / "desk.db") as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    filler = disk / "filler"
    with filler.open("wb", buffering=0) as out, contextlib.suppress(OSError):
        while True:
            out.write(FILLER_CHUNK)
    return filler


def _market_order() -> Order:
    return Order(
        symbol="ES", side=OrderSide.BUY, quantity=1, order_type=OrderType.MARKET, strategy="operator"
    )


@pytest.fixture
def desk_on_small_disk(make_desk, tmp_path: Path, small_disk: Path) -> Callable[[], object]:
    """A desk whose desk.db lives on the small disk (a symbolic link: SQLite keeps its WAL
    beside the real file), its state file and heartbeat on the normal one."""

    def _make():
        state = tmp_path / "state"
        state.mkdir(exist_ok=True)
        link = state / "desk.db"
        if not link.is_symlink():
            link.symlink_to(small_disk / "desk.db")
        return make_desk()

    return _make


async def test_storage_outage_heartbeat_and_snapshot_say_degraded_then_recover(
    desk_on_small_disk, small_disk, caplog
):
    # Arrange
    desk = desk_on_small_disk()
    await desk.run_simulated(120)
    assert desk.broker.storage_problem is None
    # Act: the disk fills up, an order goes in, the desk trades on
    filler = _fill(small_disk)
    desk.broker.submit(_market_order())
    await desk.run_simulated(60)
    desk.write_heartbeat()
    # Assert: degraded, with its reason, in the heartbeat and the snapshot
    problem = desk.broker.storage_problem
    assert problem is not None and "database or disk is full" in problem
    assert desk.parts.journal.pending > 0
    beat = Heartbeat.read(desk.state_dir.heartbeat)
    assert beat is not None and beat.degraded and beat.degraded_reason == problem
    assert desk.snapshot().storage_problem == problem
    assert [r for r in caplog.records if r.name == "trading.storage.journal" and r.levelname == "ERROR"]
    # Act: room again; the heartbeat step writes what the journal held
    filler.unlink()
    desk._heartbeat_step()
    # Assert
    assert desk.broker.storage_problem is None and desk.parts.journal.pending == 0
    beat = Heartbeat.read(desk.state_dir.heartbeat)
    assert beat is not None and not beat.degraded and beat.degraded_reason == ""
    assert desk.snapshot().storage_problem == ""
    await desk.shutdown()
    with sqlite3.connect(small_disk / "desk.db") as conn:  # every fill the broker made is written
        (fills,) = conn.execute("SELECT COUNT(*) FROM fills").fetchone()
    conn.close()
    assert fills == desk.broker.statistics().fills


async def test_storage_outage_shutdown_on_a_full_disk_returns_and_names_what_it_could_not_write(
    desk_on_small_disk, small_disk, caplog
):
    # Arrange: degraded, and the state file cannot be written either (its disk is full too)
    desk = desk_on_small_disk()
    await desk.run_simulated(120)
    _fill(small_disk)
    desk.broker.submit(_market_order())
    await desk.run_simulated(60)
    assert desk.broker.storage_problem is not None
    # Act
    await desk.shutdown()
    # Assert: it returned; the journal named what it could not write
    assert desk._stopped and not desk.parts.lock.is_locked
    assert any("journal closed with" in r.getMessage() for r in caplog.records)
