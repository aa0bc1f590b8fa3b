"""Point 10: the load-aware queue bound rule, and the executor applying it."""

from __future__ import annotations

import asyncio
import logging

import pytest
from pydantic import ValidationError

from tests.unit.signals.conftest import StartExecutor
from trading.signals import ExecutorConfig, LaneConfig, LoadReading, QueueSizing, next_queue_bound

SIZING = QueueSizing(
    min_queue=10,
    max_queue=400,
    step=2.0,
    grow_below_cpu=50,
    grow_below_memory=70,
    shrink_above_cpu=90,
    shrink_above_memory=90,
)


@pytest.mark.parametrize(
    ("current", "cpu", "memory", "expected"),
    [
        (100, 10, 20, 200),  # low load: grow by step
        (300, 10, 20, 400),  # ... up to max_queue
        (100, 95, 20, 50),  # CPU pressure: shrink by step
        (100, 10, 95, 50),  # memory pressure alone is enough
        (15, 99, 99, 10),  # ... down to min_queue
        (100, 70, 20, 100),  # in between: stay
        (100, 40, 80, 100),  # low CPU but memory in between: stay
        (5, 70, 80, 10),  # a bound outside the limits is clamped
    ],
)
def test_next_queue_bound_load_reading_follows_rule(
    current: int, cpu: float, memory: float, expected: int
) -> None:
    # Arrange
    load = LoadReading(cpu_percent=cpu, memory_percent=memory)

    # Act
    bound = next_queue_bound(current, SIZING, load)

    # Assert
    assert bound == expected


def test_queue_sizing_inverted_limits_rejected() -> None:
    with pytest.raises(ValidationError, match=r"sizing.min_queue \(50\) must be <= sizing.max_queue \(10\)"):
        QueueSizing(min_queue=50, max_queue=10)
    with pytest.raises(ValidationError, match="max_queue 5 must lie within sizing"):
        LaneConfig(name="x", max_queue=5, sizing=QueueSizing(min_queue=10, max_queue=20))


async def test_executor_adjust_queue_bounds_with_injected_reading_changes_admission(
    start_executor: StartExecutor, caplog: pytest.LogCaptureFixture
) -> None:
    # Arrange: a 20-slot lane with sizing 10..80 and a lane without sizing
    readings = [LoadReading(10, 10), LoadReading(99, 50)]
    config = ExecutorConfig(
        lanes=(
            LaneConfig(name="work", workers=1, max_queue=20, sizing=QueueSizing(min_queue=10, max_queue=80)),
            LaneConfig(name="fixed", workers=1, max_queue=5),
        ),
        default_lane="work",
        resize_interval=None,
    )
    executor = await start_executor(config=config, load_reader=lambda: readings.pop(0))
    hold = asyncio.Event()
    await executor.submit_task("hold", hold.wait)
    await asyncio.sleep(0)

    # Act / Assert: low load doubles the bound, so 40 fit
    with caplog.at_level(logging.INFO, logger="trading.signals"):
        assert executor.adjust_queue_bounds() == {"work": 40, "fixed": 5}
    assert "lane work queue bound 20 -> 40 (cpu 10%, memory 10%)" in caplog.messages
    accepted = [await executor.submit_task("q", hold.wait) for _ in range(45)]
    assert sum(a is not None for a in accepted) == 40

    # Act / Assert: pressure halves it; queued tasks stay, new ones are refused
    assert executor.adjust_queue_bounds() == {"work": 20, "fixed": 5}
    assert await executor.submit_task("q", hold.wait) is None
    lane = executor.statistics().lane("work")
    assert (lane.max_queue, lane.queued) == (20, 40)

    # Act / Assert: an explicit reading needs no reader
    assert executor.adjust_queue_bounds(LoadReading(10, 10))["work"] == 40
    hold.set()
