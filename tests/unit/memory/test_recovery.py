"""Backups are kept; a corrupt, truncated or unsafe main file falls back to the newest good backup."""

from __future__ import annotations

import logging
import os
import pickle
import struct
from pathlib import Path
from typing import Any

import pytest

from trading.errors import StateCorruptError
from trading.memory import StateManager, backup_paths
from trading.memory._format import encode


def _save_generations(path: Path, count: int, backups: int = 3) -> None:
    sm = StateManager(path, backups=backups, backup_interval=0)
    for i in range(count):
        sm.set("i", i)
        sm.save()  # generation i + 1
    sm.close()


def test_recovery_keeps_last_n_backups(state_path: Path) -> None:
    _save_generations(state_path, 6, backups=3)

    kept = backup_paths(state_path)

    assert len(kept) == 3
    assert [p.name for p in kept] == [f"state.pkl.bak.{g:012d}" for g in (5, 4, 3)]


@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_recovery_corrupt_main_loads_newest_backup_and_moves_bad_file(
    state_path: Path, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    _save_generations(state_path, 4)
    raw = state_path.read_bytes()
    state_path.write_bytes(raw[: len(raw) // 2] if damage == "truncate" else raw[:-3] + b"\x00\x00\x00")

    with caplog.at_level(logging.WARNING, logger="trading.memory"):
        sm = StateManager(state_path)  # construction reads the file: recovery happens here

    assert sm.get("i") == 2  # the newest backup holds the previous generation
    moved = list(state_path.parent.glob("state.pkl.corrupt.*"))
    assert len(moved) == 1 and not state_path.exists()
    message = caplog.records[-1].getMessage()
    assert f"state file {state_path} is corrupt" in message
    assert f"loaded backup {state_path}.bak.000000000003" in message
    assert f"moved the bad file to {moved[0]}" in message
    assert sm.load() is True and sm.get("i") == 2  # an explicit re-read finds the same backup
    sm.save()  # and the writer carries on from the recovered state
    assert StateManager(state_path).load() is True
    sm.close()


def test_recovery_skips_corrupt_backups(state_path: Path) -> None:
    _save_generations(state_path, 4)
    state_path.write_bytes(b"TRDSTATE garbage")
    newest = backup_paths(state_path)[0]
    newest.write_bytes(newest.read_bytes()[:20])

    sm = StateManager(state_path)
    sm.load()

    assert sm.get("i") == 1
    sm.close()


def test_recovery_without_good_backup_raises_and_keeps_file(state_path: Path) -> None:
    _save_generations(state_path, 1)
    state_path.write_bytes(state_path.read_bytes()[:30])

    with pytest.raises(StateCorruptError, match=r"state.pkl is truncated"):
        StateManager(state_path)
    sm = StateManager(state_path, load=False)
    with pytest.raises(StateCorruptError, match=r"state.pkl is truncated"):
        sm.load()
    sm.close()

    assert state_path.exists()


def test_recovery_missing_main_loads_backup(state_path: Path) -> None:
    _save_generations(state_path, 3)
    state_path.unlink()

    sm = StateManager(state_path)

    assert sm.load() is True
    assert sm.get("i") == 1
    sm.close()


# --- unsafe files: a pickle naming a callable outside the allow-list ------------------


class _Exploit:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.system, (f"touch {self.marker}",))


def _unsafe_bytes(kind: str, marker: Path) -> bytes:
    """A real unsafe pickle: a legacy plain pickle, or a framed file whose index names os.system."""
    exploit = pickle.dumps({"x": _Exploit(marker)}, protocol=4)
    if kind == "legacy":
        return exploit
    payload = struct.pack(">I", len(exploit)) + exploit
    header, body = encode(payload, codec="zstd", version=1, generation=9, write_id=7, written_ns=1)
    return header.pack() + bytes(body)


@pytest.mark.parametrize("kind", ["legacy", "framed"])
def test_recovery_unsafe_main_loads_newest_backup_moves_it_aside_and_saves_again(
    state_path: Path, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    _save_generations(state_path, 4)
    marker = state_path.with_name("pwned")
    state_path.write_bytes(_unsafe_bytes(kind, marker))

    with caplog.at_level(logging.WARNING, logger="trading.memory"):
        sm = StateManager(state_path)

    assert sm.get("i") == 2  # the newest backup
    assert not marker.exists()  # nothing ran
    moved = list(state_path.parent.glob("state.pkl.unsafe.*"))
    assert len(moved) == 1 and not state_path.exists()
    message = caplog.records[-1].getMessage()
    assert f"state file {state_path} is unsafe (" in message and "asks for posix.system" in message
    assert f"loaded backup {state_path}.bak.000000000003 instead" in message
    assert f"moved the bad file to {moved[0]}" in message
    assert sm.get_stats().recoveries == 1
    sm.set("i", 99)
    sm.save()  # the desk does not end up trading without saving
    check = StateManager(state_path)
    assert check.get("i") == 99
    for m in (sm, check):
        m.close()


def test_recovery_unsafe_file_found_by_a_merging_save_is_moved_aside_and_the_save_lands(
    state_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sm = StateManager(state_path)
    sm.set("i", 1)
    sm.save()
    marker = state_path.with_name("pwned")
    state_path.write_bytes(_unsafe_bytes("legacy", marker))  # replaced behind the writer's back
    sm.set("i", 2)

    with caplog.at_level(logging.WARNING, logger="trading.memory"):
        sm.save()

    assert not marker.exists()
    assert len(list(state_path.parent.glob("state.pkl.unsafe.*"))) == 1
    assert f"state file {state_path} is unsafe (" in caplog.text
    assert "keeping the in-memory state" in caplog.text
    check = StateManager(state_path)
    assert check.get("i") == 2
    for m in (sm, check):
        m.close()


def test_recovery_skips_unsafe_backup(state_path: Path) -> None:
    _save_generations(state_path, 4)
    state_path.write_bytes(b"TRDSTATE garbage")
    marker = state_path.with_name("pwned")
    backup_paths(state_path)[0].write_bytes(_unsafe_bytes("legacy", marker))

    sm = StateManager(state_path)

    assert sm.get("i") == 1
    assert not marker.exists()
    sm.close()
