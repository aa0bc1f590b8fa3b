"""Fixtures for the storage tests: a real SQLite file per test, closed afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from trading.clock import TestClock
from trading.storage import Database


@pytest.fixture
def clock() -> TestClock:
    return TestClock()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "desk.db"


@pytest.fixture
def db(db_path: Path, clock: TestClock) -> Iterator[Database]:
    database = Database(db_path, clock=clock)
    yield database
    database.close()
