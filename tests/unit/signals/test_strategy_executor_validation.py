"""Point 11: bad input is refused at submit with a clear error, and nothing is queued."""

from __future__ import annotations

import math
from typing import Any

import pytest
from pydantic import ValidationError

from trading.errors import TradingError
from trading.signals import (
    ExecutorConfig,
    InMemoryJobStore,
    InvalidTaskError,
    InvalidTaskTypeError,
    LaneConfig,
    StrategyExecutor,
)


async def job() -> None:
    return None


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        (
            ("s", "not a function"),
            {},
            TypeError,
            r"submit_task\('s'\): fn must be callable .* got str 'not a function'",
        ),
        (("s", None), {}, TypeError, "fn must be callable"),
        (("s", job), {"timeout": 0}, ValueError, r"timeout must be a finite number of seconds > 0, got 0"),
        (("s", job), {"timeout": -1.5}, ValueError, r"got -1.5"),
        (("s", job), {"timeout": math.nan}, ValueError, r"got nan"),
        (("s", job), {"timeout": "5"}, TypeError, r"timeout must be a number of seconds or None, got '5'"),
        (("s", job), {"lane": "fast"}, ValueError, r"unknown lane 'fast'; lanes: risk, strategies"),
        (
            ("s", job),
            {"priority": 1.5},
            TypeError,
            r"priority must be an int \(lower runs first\), got float 1.5",
        ),
        (("s", job), {"priority": "1"}, TypeError, r"priority must be an int"),
        (("s", job), {"priority": True}, TypeError, r"got bool True"),
        (("s", job), {"retries": -1}, ValueError, r"retries must be an int >= 0, got -1"),
        (("s", job), {"key": 7}, TypeError, r"key must be a str or None, got 7"),
        (("", job), {}, TypeError, r"name must be a non-empty str, got ''"),
    ],
)
async def test_executor_submit_bad_input_raises_and_queues_nothing(
    args: tuple[Any, ...], kwargs: dict[str, Any], error: type[Exception], match: str
) -> None:
    # Arrange
    executor = StrategyExecutor()

    # Act
    with pytest.raises(error, match=match) as raised:
        await executor.submit_task(*args, **kwargs)

    # Assert
    assert isinstance(raised.value, InvalidTaskError) and isinstance(raised.value, TradingError)
    assert isinstance(raised.value, InvalidTaskTypeError) == (error is TypeError)
    stats = executor.statistics()
    assert (stats.submitted, stats.rejected, stats.queued) == (0, 0, 0)
    await executor.stop()


def test_executor_bad_error_carries_field_value_allowed() -> None:
    # Arrange
    executor = StrategyExecutor()

    # Act
    with pytest.raises(InvalidTaskError) as raised:
        executor.submit_nowait("s", job, lane="nope")

    # Assert
    assert (raised.value.field, raised.value.value, raised.value.allowed) == (
        "lane",
        "nope",
        "risk, strategies",
    )


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda: StrategyExecutor(max_concurrent_tasks=0), "greater than or equal to 1"),
        (lambda: StrategyExecutor(default_timeout=-1), "greater than 0"),
        (lambda: StrategyExecutor(config=ExecutorConfig(), max_queue_size=5), "either config= or the size"),
        (
            lambda: StrategyExecutor(job_stores={"fast": InMemoryJobStore()}),
            r"job_stores: unknown lanes \['fast'\]",
        ),
        (
            lambda: ExecutorConfig(lanes=(LaneConfig(name="a"), LaneConfig(name="a")), default_lane="a"),
            r"duplicate lane names \['a'\]",
        ),
        (lambda: ExecutorConfig(default_lane="fast"), "default_lane 'fast' is not one of the lanes"),
        (lambda: LaneConfig(name="a", workers=2, colour="red"), "Extra inputs are not permitted"),
        (lambda: LaneConfig(name="a", overflow="evict"), "'reject' or 'drop_lowest'"),
        (lambda: LaneConfig(name="a b"), "String should match pattern"),
    ],
)
def test_executor_bad_configuration_rejected_with_reason(build: Any, match: str) -> None:
    with pytest.raises((ValueError, ValidationError), match=match):
        build()


def test_lane_config_frozen() -> None:
    lane = LaneConfig(name="a")
    with pytest.raises(ValidationError, match="frozen"):
        lane.workers = 3  # type: ignore[misc]
