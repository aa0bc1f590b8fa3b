"""Memory budget: oldest entries go first; low system memory cleans up more; age cleanup."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from trading.clock import TestClock
from trading.memory import StateManager, SystemMemory

_PLENTY = SystemMemory(process_rss_bytes=100_000_000, available_bytes=8_000_000_000)
_LOW = SystemMemory(process_rss_bytes=100_000_000, available_bytes=50_000_000)


def _fill(sm: StateManager, clock: TestClock, n: int) -> None:
    for i in range(n):
        sm.set(f"k{i}", np.full(125_000, i, dtype=np.float64))  # ~1 MB pickled each
        clock.advance(1)


def test_memory_over_budget_removes_oldest_first_and_logs(
    state_path: Path, clock: TestClock, caplog: pytest.LogCaptureFixture
) -> None:
    sm = StateManager(state_path, max_memory_mb=3.5, clock=clock, memory_probe=lambda: _PLENTY)
    _fill(sm, clock, 5)

    with caplog.at_level(logging.WARNING, logger="trading.memory"):
        sm.save()

    assert sm.keys() == ["k2", "k3", "k4"]
    assert "over its memory budget (3.5 MB): removed 2 oldest entries: k0, k1" in caplog.text
    assert sm.get_stats().evicted == 2
    sm.close()


def test_memory_low_system_memory_cleans_up_aggressively(
    state_path: Path, clock: TestClock, caplog: pytest.LogCaptureFixture
) -> None:
    sm = StateManager(state_path, max_memory_mb=10, clock=clock, memory_probe=lambda: _LOW)
    _fill(sm, clock, 6)

    with caplog.at_level(logging.WARNING, logger="trading.memory"):
        sm.save()

    assert sm.keys() == ["k2", "k3", "k4", "k5"]
    assert (
        "over its aggressive budget (5.0 MB, system memory low): removed 2 oldest entries: k0, k1"
        in caplog.text
    )
    sm.close()


def test_memory_usage_reports_state_and_process(state_path: Path, clock: TestClock) -> None:
    sm = StateManager(state_path, clock=clock)
    _fill(sm, clock, 2)

    usage = sm.get_memory_usage()

    assert usage.entries == 2
    assert 2_000_000 < usage.state_bytes < 2_100_000
    assert usage.process_rss_bytes > 0 and usage.system_available_bytes > 0
    sm.close()


def test_memory_cleanup_old_data_removes_by_age_and_logs(
    state_path: Path, clock: TestClock, caplog: pytest.LogCaptureFixture
) -> None:
    sm = StateManager(state_path, clock=clock)
    sm.set("old", 1)
    clock.advance(3600 * 30)
    sm.set("fresh", 2)

    with caplog.at_level(logging.INFO, logger="trading.memory"):
        removed = sm.cleanup_old_data(max_age_hours=24)

    assert removed == 1
    assert sm.keys() == ["fresh"]
    assert "removed 1 state entries older than 24 h" in caplog.text and ": old" in caplog.text
    sm.save()
    reader = StateManager(state_path)
    reader.load()
    assert reader.keys() == ["fresh"]
    sm.close()
    reader.close()
