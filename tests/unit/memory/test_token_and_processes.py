"""Change detection, deletes across managers and processes, cross-process read-modify-write,
readers vs writers, SIGKILL during save."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from trading.memory import StateManager

_CHILD = str(Path(__file__).with_name("_child.py"))


def _spawn(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])}
    return subprocess.Popen([sys.executable, _CHILD, *args], stdout=subprocess.PIPE, text=True, env=env)


def test_token_changes_on_every_save_and_only_then(manager: StateManager, state_path: Path) -> None:
    manager.set("a", 1)
    manager.save()
    first = manager.version_token()

    same = manager.version_token()
    manager.save()  # same content, new file
    second = manager.version_token()

    assert first == same
    assert second != first


def test_token_poll_is_microseconds(manager: StateManager) -> None:
    manager.set("a", 1)
    manager.save()
    samples = []
    for _ in range(2000):
        start = time.perf_counter()
        manager.version_token()
        samples.append(time.perf_counter() - start)
    samples.sort()

    assert samples[len(samples) // 2] < 50e-6  # typically 2-4 µs; generous for a shared machine


def test_token_lets_reader_skip_unchanged_file(state_path: Path) -> None:
    writer = StateManager(state_path)
    reader = StateManager(state_path)
    writer.set("n", 1)
    writer.save()
    reader.load()
    seen = reader.version_token()

    unchanged = reader.version_token() == seen
    writer.set("n", 2)
    writer.save()
    changed = reader.version_token() != seen
    reader.load()

    assert unchanged and changed
    assert reader.get("n") == 2
    writer.close()
    reader.close()


def test_two_writers_merge_their_keys(state_path: Path) -> None:
    a = StateManager(state_path)
    b = StateManager(state_path)
    a.set("from_a", 1)
    a.save()
    b.set("from_b", 2)
    b.save()  # merges a's file first

    check = StateManager(state_path)
    check.load()

    assert check.get("from_a") == 1 and check.get("from_b") == 2
    for sm in (a, b, check):
        sm.close()


def _run(*args: str) -> None:
    child = _spawn(*args)
    out, _ = child.communicate(timeout=60)
    assert child.returncode == 0, out


def _keys_on_disk(path: Path) -> list[str]:
    check = StateManager(path)
    keys = sorted(check.keys())
    check.close()
    return keys


def test_delete_then_save_then_reload_key_stays_gone(state_path: Path) -> None:
    with StateManager(state_path) as sm:
        sm.update({"a": 1, "b": 2})
    sm = StateManager(state_path)

    sm.delete("a")
    sm.save()

    assert _keys_on_disk(state_path) == ["b"]
    sm.close()


def test_two_managers_delete_survives_save_merging_the_others_newer_file(state_path: Path) -> None:
    with StateManager(state_path) as seed:
        seed.update({"a": 1, "b": 2})
    deleter, other = StateManager(state_path), StateManager(state_path)
    other.set("c", 3)
    other.save()  # a newer file that still holds "a"

    deleter.delete("a")
    deleter.save()  # merges other's file first

    assert deleter.keys() == ["b", "c"]
    assert _keys_on_disk(state_path) == ["b", "c"]
    for sm in (deleter, other):
        sm.close()


def test_two_managers_clear_survives_save_merging_the_others_newer_file(state_path: Path) -> None:
    with StateManager(state_path) as seed:
        seed.update({"a": 1, "b": 2})
    clearer, other = StateManager(state_path), StateManager(state_path)
    other.set("c", 3)
    other.save()

    clearer.clear()
    clearer.set("d", 4)
    clearer.save()

    assert _keys_on_disk(state_path) == ["d"]
    for sm in (clearer, other):
        sm.close()


def test_processes_delete_survives_save_merging_another_process_newer_file(state_path: Path) -> None:
    with StateManager(state_path) as seed:
        seed.update({"a": 1, "b": 2})
    sm = StateManager(state_path)
    sm.delete("a")

    _run("set", str(state_path), "c", "3")  # another process saves a newer file, "a" still in it
    sm.save()

    assert _keys_on_disk(state_path) == ["b", "c"]
    sm.close()


def test_processes_key_deleted_by_another_process_is_not_brought_back_by_a_save(state_path: Path) -> None:
    with StateManager(state_path) as seed:
        seed.update({"a": 1, "b": 2})
    sm = StateManager(state_path)  # holds "a" in memory, unchanged
    sm.set("b", 20)

    _run("delete", str(state_path), "a")
    sm.save()

    assert _keys_on_disk(state_path) == ["b"]
    assert sm.keys() == ["b"]
    check = StateManager(state_path)
    assert check.get("b") == 20
    check.close()
    sm.close()


def test_process_opening_the_file_sees_its_content_without_load(state_path: Path) -> None:
    with StateManager(state_path) as writer:
        writer.set("greeting", "hello")

    child = _spawn("show", str(state_path), "greeting")
    out, _ = child.communicate(timeout=60)

    assert child.returncode == 0
    assert out.split() == ["'hello'", "1"]  # the value, and get_version().version


@pytest.mark.slow
def test_processes_two_by_four_threads_increment_without_loss(state_path: Path) -> None:
    per_thread = 150
    children = [_spawn("increment", str(state_path), "4", str(per_thread)) for _ in range(2)]
    outputs = [c.communicate(timeout=240)[0] for c in children]

    assert [c.returncode for c in children] == [0, 0]
    sm = StateManager(state_path)
    sm.load()
    assert sm.get("counter") == 2 * 4 * per_thread
    sm.close()
    p99_ms = max(float(out.split()[0]) for out in outputs)
    assert p99_ms < 100  # the bench measures the real figure; this catches starvation (seconds)


@pytest.mark.slow
def test_reader_process_never_sees_half_written_file(state_path: Path) -> None:
    writer = _spawn("save_loop", str(state_path))
    assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
    try:
        reader = _spawn("read_loop", str(state_path), "2.5")
        out, _ = reader.communicate(timeout=60)
    finally:
        writer.kill()
        writer.communicate()

    assert reader.returncode == 0, out
    assert int(out.strip()) > 10  # it did see many distinct files


@pytest.mark.slow
def test_sigkill_during_save_always_leaves_a_loadable_file(state_path: Path) -> None:
    rng = random.Random(7)
    last = -1
    for _ in range(50):
        child = _spawn("save_loop", str(state_path))
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.0, 0.05))  # a random moment inside the save loop (no timer is awaited)
        os.kill(child.pid, signal.SIGKILL)
        child.communicate()

        sm = StateManager(state_path)
        assert sm.load() is True
        data = sm.get("data")
        assert int(data.sum()) == sm.get("check") and int(data[0]) == sm.get("i")
        last = sm.get("i")
        sm.close()
    assert last >= 1
    assert not list(state_path.parent.glob("*.corrupt.*"))
    assert len(list(state_path.parent.glob(".state.pkl.*.tmp"))) <= 1  # only the last killed writer's
