"""Temp files: a killed writer's leftovers are removed by the next writer, a live writer's never."""

from __future__ import annotations

import logging
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from trading.errors import StateLockTimeout
from trading.memory import StateManager

Spawn = Callable[..., subprocess.Popen[str]]  # the conftest fixture "spawn"


def _temp_files(state_path: Path) -> list[Path]:
    return sorted(state_path.parent.glob(f".{state_path.name}.*.tmp"))


def test_files_first_save_removes_the_temp_file_a_killed_writer_left(
    state_path: Path, spawn: Spawn, caplog: pytest.LogCaptureFixture
) -> None:
    with StateManager(state_path) as sm:
        sm.set("i", 1)
    writer = spawn("die_mid_save", str(state_path))
    writer.communicate(timeout=60)
    assert writer.returncode == -signal.SIGKILL
    left = _temp_files(state_path)
    unrelated = [state_path.with_name(".other.pkl.1.2.tmp"), state_path.with_name(".state.pkl.notes.tmp")]
    for path in unrelated:
        path.write_bytes(b"not ours")
    sm = StateManager(state_path)
    assert sm.get("i") == 1  # the killed save never replaced the file
    sm.set("i", 2)

    with caplog.at_level(logging.WARNING, logger="trading.memory"):
        sm.save()

    assert len(left) == 1 and not left[0].exists()
    assert (
        f"removed 1 temp file(s) a killed writer of {state_path} left behind: {left[0].name}" in caplog.text
    )
    assert all(path.exists() for path in unrelated)
    assert StateManager(state_path).get("i") == 2
    sm.close()


def test_files_temp_file_of_a_writer_holding_the_lock_is_left_alone(state_path: Path, spawn: Spawn) -> None:
    with StateManager(state_path) as seed:
        seed.set("i", 1)
    in_flight = state_path.with_name(f".{state_path.name}.4242.77.tmp")
    holder = spawn("hold_lock", str(state_path.with_name("state.pkl.lock")), str(in_flight))
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    sm = StateManager(state_path, lock_timeout=0.2)  # opening reads without the lock
    sm.set("i", 2)

    with pytest.raises(StateLockTimeout):
        sm.save()  # cannot clean up without the lock
    survived = in_flight.exists()
    _finish(holder)
    sm.save()

    assert survived
    assert StateManager(state_path).get("i") == 2
    sm.close()


def _finish(holder: subprocess.Popen[str]) -> None:
    assert holder.stdin is not None
    holder.stdin.write("release\n")
    holder.stdin.flush()
    assert holder.wait(timeout=30) == 0
