"""Dict-like API, persistence round trip, context manager, statistics and bad input."""

from __future__ import annotations

import contextlib
import gc
import os
import shutil
import subprocess
import threading
import weakref
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from trading.clock import TestClock
from trading.errors import ConfigError, StateCorruptError, StateError, StateSerializationError
from trading.memory import StateManager, StateVersion


def test_state_manager_dict_api_behaves_like_a_dict(manager: StateManager) -> None:
    manager.set("a", 1)
    manager.update({"b": [1, 2], "c": {"x": 1.5}})
    manager["d"] = "text"

    assert manager.get("a") == 1
    assert manager.get("missing", 42) == 42
    assert sorted(manager.keys()) == ["a", "b", "c", "d"]
    assert dict(manager.items())["c"] == {"x": 1.5}
    assert "b" in manager and len(manager) == 4
    assert manager.delete("a") is True
    assert manager.delete("a") is False
    del manager["d"]
    with pytest.raises(KeyError):
        manager["d"]
    manager.clear()
    assert manager.keys() == []


def test_state_manager_save_then_load_round_trips_values(state_path: Path) -> None:
    values = {"n": 7, "arr": np.arange(10.0), "nested": {"t": (1, "x"), "s": {1, 2}}}
    with StateManager(state_path) as writer:
        writer.update(values)

    reader = StateManager(state_path)
    assert reader.load() is True

    assert reader.get("n") == 7
    np.testing.assert_array_equal(reader.get("arr"), values["arr"])
    assert reader.get("nested") == values["nested"]
    assert reader.get_version().version == StateVersion.CURRENT_VERSION
    assert reader.get_version().generation == 1
    reader.close()


def test_state_manager_load_without_file_returns_false(manager: StateManager) -> None:
    assert manager.load() is False
    assert manager.version_token() is None


# --- opening a file: the original design's usage -----------------------------------------


def test_state_manager_construction_reads_existing_file_without_load(state_path: Path) -> None:
    with StateManager(state_path) as writer:
        writer.set("positions", {"ES": 2})

    sm = StateManager(state_path)

    assert sm.get("positions") == {"ES": 2}
    assert sm.get_version().version == StateVersion.CURRENT_VERSION
    assert sm.get_version().generation == 1
    assert sm.get_stats().loads == 1
    sm.close()


def test_state_manager_construction_without_file_is_empty(state_path: Path) -> None:
    sm = StateManager(state_path)

    assert sm.keys() == []
    assert not state_path.exists()
    assert sm.get_version().version == StateVersion.CURRENT_VERSION
    assert sm.get_version().generation == 0
    assert sm.get_stats().loads == 0
    sm.close()


def test_state_manager_load_after_construction_rereads_harmlessly(state_path: Path) -> None:
    with StateManager(state_path) as writer:
        writer.set("a", 1)
    sm = StateManager(state_path)

    assert sm.load() is True
    assert sm.load() is True
    sm.set("b", 2)
    sm.save()

    assert sm.get("a") == 1
    assert sm.get_stats().loads == 3
    assert sm.get_version().generation == 2
    check = StateManager(state_path)
    assert sorted(check.keys()) == ["a", "b"]
    for m in (sm, check):
        m.close()


def test_state_manager_load_false_reads_nothing_until_load(state_path: Path) -> None:
    with StateManager(state_path) as writer:
        writer.set("a", 1)

    sm = StateManager(state_path, load=False)
    before = sm.keys()
    loaded = sm.load()

    assert before == []
    assert loaded is True
    assert sm.get("a") == 1
    sm.close()


def test_state_manager_set_pickles_at_set_time(manager: StateManager, state_path: Path) -> None:
    value = [1]
    manager.set("v", value)
    value.append(2)  # mutation after set is not stored (like shelve)
    manager.save()

    other = StateManager(state_path)
    other.load()
    assert other.get("v") == [1]
    other.close()


def test_state_manager_context_manager_saves_on_clean_exit_only(state_path: Path) -> None:
    with StateManager(state_path) as sm:
        sm.set("kept", 1)
    with pytest.raises(RuntimeError, match="boom"), StateManager(state_path) as sm:
        sm.load()
        sm.set("lost", 2)
        raise RuntimeError("boom")

    check = StateManager(state_path)
    check.load()
    assert check.keys() == ["kept"]
    check.close()


def test_state_manager_autosave_saves_after_interval(state_path: Path, clock: TestClock) -> None:
    sm = StateManager(state_path, autosave=5.0, clock=clock)
    sm.set("a", 1)
    assert not state_path.exists()

    clock.advance(5)
    sm.set("b", 2)

    assert state_path.exists()
    assert sm.get_stats().saves == 1
    sm.close()


def test_state_manager_stats_and_repr_show_state(manager: StateManager) -> None:
    manager.set("a", 1)
    manager.save()
    manager.update_with(lambda s: s.set("a", 2))

    stats = manager.statistics()

    assert stats.saves == 2 and stats.transactions == 1 and stats.entries == 1
    assert stats.generation == 2 and stats.lock_acquired >= 2
    assert "entries=1" in repr(manager) and "generation=2" in repr(manager)


def test_state_manager_is_freed_by_refcount_without_the_cycle_collector(state_path: Path) -> None:
    with StateManager(state_path) as seed:
        seed.set("big", np.zeros(100_000))
    sm = StateManager(state_path)
    sm.update_with(lambda s: s.set("n", 1))
    sm.close()
    ref = weakref.ref(sm)

    gc.disable()
    try:
        del sm
        freed = ref() is None
    finally:
        gc.enable()

    assert freed  # no reference cycle through its parts: the file's bytes go at once


def test_state_manager_threads_increment_without_losing_updates(manager: StateManager) -> None:
    def work() -> None:
        for _ in range(50):
            manager.update_with(lambda s: s.set("n", s.get("n", 0) + 1))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert manager.get("n") == 200


def test_state_manager_transaction_error_rolls_back_and_writes_nothing(manager: StateManager) -> None:
    manager.set("n", 1)
    manager.save()
    token = manager.version_token()

    with pytest.raises(ValueError, match="abort"), manager.transaction() as state:
        state.set("n", 99)
        raise ValueError("abort")

    assert manager.get("n") == 1
    assert manager.version_token() == token


# --- bad input ------------------------------------------------------------------------


def test_state_manager_missing_directory_raises_naming_path(tmp_path: Path) -> None:
    path = tmp_path / "nope" / "state.pkl"
    with pytest.raises(StateError, match=r"state directory .*nope does not exist"):
        StateManager(path)


def test_state_manager_bad_setting_raises_config_error(state_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"compression"):
        StateManager(state_path, compression="lz4")
    with pytest.raises(ConfigError, match=r"unknown_option"):
        StateManager(state_path, unknown_option=1)


def test_state_manager_unpicklable_value_is_refused_and_nothing_lost(
    manager: StateManager, state_path: Path
) -> None:
    manager.set("good", 1)
    manager.save()
    before = state_path.read_bytes()

    with pytest.raises(StateSerializationError, match=r"key 'bad' in .*state.pkl: it cannot be pickled"):
        manager.set("bad", threading.Lock())
    with pytest.raises(StateSerializationError):
        manager.update({"fine": 2, "bad": lambda: 1})
    manager.save()

    assert "bad" not in manager and "fine" not in manager
    assert manager.get("good") == 1
    assert state_path.read_bytes() != before  # re-saved, still loads with the old content
    check = StateManager(state_path)
    check.load()
    assert check.keys() == ["good"]
    check.close()


def test_state_manager_non_str_key_is_refused(manager: StateManager) -> None:
    with pytest.raises(StateError, match=r"keys must be str, got int 5"):
        manager.set(5, "x")  # type: ignore[arg-type]


@contextlib.contextmanager
def _read_only(directory: Path) -> Iterator[None]:
    """Make ``directory`` unwritable, even for root (chattr +i) when running as root."""
    if os.geteuid() == 0:
        if shutil.which("chattr") is None:
            pytest.skip("running as root without chattr: cannot make a directory read-only")
        subprocess.run(["chattr", "+i", str(directory)], check=True)
        try:
            yield
        finally:
            subprocess.run(["chattr", "-i", str(directory)], check=True)
    else:
        directory.chmod(0o555)
        try:
            yield
        finally:
            directory.chmod(0o755)


def test_state_manager_unwritable_directory_raises_and_keeps_file(tmp_path: Path) -> None:
    directory = tmp_path / "ro"
    directory.mkdir()
    path = directory / "state.pkl"
    with StateManager(path) as sm:
        sm.set("a", 1)
    saved = path.read_bytes()
    sm = StateManager(path)
    sm.load()
    sm.set("a", 2)

    with _read_only(directory), pytest.raises(StateError, match=r"cannot save state to .*state.pkl: "):
        sm.save()

    sm.close()
    assert path.read_bytes() == saved
    assert sm.get("a") == 2  # the unsaved value is still in memory for a retry


def test_state_manager_reader_in_read_only_directory_loads(tmp_path: Path) -> None:
    directory = tmp_path / "ro"
    directory.mkdir()
    path = directory / "state.pkl"
    with StateManager(path) as sm:
        sm.set("a", 1)

    with _read_only(directory):
        reader = StateManager(path)
        assert reader.load() is True
        assert reader.version_token() is not None
        value = reader.get("a")
        reader.close()

    assert value == 1


def test_state_manager_foreign_file_is_refused_and_left_alone(state_path: Path) -> None:
    state_path.write_text("symbol,price\nES,5000\n")

    with pytest.raises(StateCorruptError, match=r"state.pkl is not a state file: it starts with b'symbol,p'"):
        StateManager(state_path)
    sm = StateManager(state_path, load=False)
    with pytest.raises(StateCorruptError, match=r"state.pkl is not a state file: it starts with b'symbol,p'"):
        sm.load()
    sm.close()

    assert state_path.read_text() == "symbol,price\nES,5000\n"


def test_state_manager_path_is_directory_raises(tmp_path: Path) -> None:
    with pytest.raises(StateError, match=r"is a directory, expected a file"):
        StateManager(tmp_path)
