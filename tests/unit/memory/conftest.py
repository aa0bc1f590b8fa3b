"""Fixtures for the state store tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from trading.clock import TestClock
from trading.memory import StateManager


@pytest.fixture
def state_path(tmp_path: Path) -> Path:
    return tmp_path / "state.pkl"


@pytest.fixture
def clock() -> TestClock:
    return TestClock()


@pytest.fixture
def manager(state_path: Path, clock: TestClock) -> Iterator[StateManager]:
    sm = StateManager(state_path, clock=clock)
    yield sm
    sm.close()
