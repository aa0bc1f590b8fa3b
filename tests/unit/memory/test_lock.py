"""The cross-process lock against a second process that really holds it."""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from trading.errors import StateLockTimeout
from trading.memory import StateManager
from trading.memory._lock import ProcessLock

Spawn = Callable[..., subprocess.Popen[str]]  # the conftest fixture "spawn"


def _lock_path(state_path: Path) -> Path:
    return state_path.with_name(state_path.name + ".lock")


def _holding(spawn: Spawn, lock_path: Path, *extra: str) -> subprocess.Popen[str]:
    holder = spawn("hold_lock", str(lock_path), *extra)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    return holder


def _release(holder: subprocess.Popen[str]) -> None:
    assert holder.stdin is not None and holder.stdout is not None
    holder.stdin.write("release\n")
    holder.stdin.flush()
    assert holder.stdout.readline().strip() == "released"
    assert holder.wait(timeout=30) == 0


def test_lock_waits_blocking_until_the_other_process_releases(state_path: Path, spawn: Spawn) -> None:
    holder = _holding(spawn, _lock_path(state_path))
    lock = ProcessLock(_lock_path(state_path), timeout=30)
    acquired = threading.Event()
    waited: list[float] = []

    def take() -> None:
        waited.append(lock.acquire())
        acquired.set()

    taker = threading.Thread(target=take)
    taker.start()
    blocked = not acquired.wait(0.3)  # the holder keeps it until told: the taker cannot have it
    _release(holder)
    taker.join(timeout=30)

    assert blocked
    assert acquired.is_set()
    assert lock.contended == 1 and lock.acquired == 1
    assert waited[0] > 0 and lock.wait_percentile(1.0) == waited[0]
    lock.release()
    lock.close()


def test_lock_timeout_raises_and_the_abandoned_wait_does_not_keep_the_lock(
    state_path: Path, spawn: Spawn
) -> None:
    holder = _holding(spawn, _lock_path(state_path))
    lock = ProcessLock(_lock_path(state_path), timeout=30)

    with pytest.raises(
        StateLockTimeout, match=r"could not lock .*state.pkl.lock within 0.200 s: another process"
    ):
        lock.acquire(timeout=0.2)
    _release(holder)  # the abandoned waiter gets the lock now, and must give it back
    other = spawn("try_lock", str(_lock_path(state_path)), "30")
    out, _ = other.communicate(timeout=60)

    assert out.strip() == "locked"
    assert lock.acquired == 0
    lock.close()


def test_lock_timeout_is_a_timeout_error(state_path: Path, spawn: Spawn) -> None:
    holder = _holding(spawn, _lock_path(state_path))
    lock = ProcessLock(_lock_path(state_path), timeout=0.1)

    with pytest.raises(TimeoutError, match=r"another process holds it"):
        lock.acquire()

    _release(holder)
    lock.close()


def test_lock_state_manager_save_times_out_and_writes_nothing_then_succeeds(
    state_path: Path, spawn: Spawn
) -> None:
    holder = _holding(spawn, _lock_path(state_path))
    sm = StateManager(state_path, lock_timeout=0.2)
    sm.set("a", 1)

    with pytest.raises(StateLockTimeout, match=r"could not lock .*state.pkl.lock within 0.200 s"):
        sm.save()
    written_while_held = state_path.exists()
    _release(holder)
    sm.save()

    assert not written_while_held
    assert StateManager(state_path).get("a") == 1
    sm.close()
