"""Fixtures for the state store tests."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
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


_CHILD = str(Path(__file__).with_name("_child.py"))
_ROOT = str(Path(__file__).resolve().parents[3])

Spawn = Callable[..., subprocess.Popen[str]]


@pytest.fixture
def spawn() -> Iterator[Spawn]:
    """Start ``_child.py <mode> <args>`` with piped stdin/stdout; children still alive at teardown are killed."""
    children: list[subprocess.Popen[str]] = []

    def _spawn(*args: str) -> subprocess.Popen[str]:
        env = {**os.environ, "PYTHONPATH": _ROOT}
        child = subprocess.Popen(
            [sys.executable, _CHILD, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        children.append(child)
        return child

    yield _spawn
    for child in children:
        if child.poll() is None:
            child.kill()
        child.communicate()
