"""Point 1: lower priority number runs first, FIFO within a priority, O(1) behind a backlog."""

from __future__ import annotations

import asyncio
import time

from tests.unit.signals.conftest import Gate, StartExecutor, one_lane
from trading.signals import TaskStatus


async def test_executor_mixed_priorities_run_lowest_number_first_fifo_within(
    start_executor: StartExecutor,
) -> None:
    # Arrange: one worker held by a gate, so everything below queues
    executor = await start_executor(config=one_lane(workers=1))
    gate, order = Gate(), []

    async def note(label: str) -> str:
        order.append(label)
        return label

    await executor.submit_task("gate", gate, priority=0)
    await gate.started.wait()
    for label, priority in [("c1", 3), ("a1", 1), ("b1", 2), ("a2", 1), ("c2", 3), ("z", -5), ("a3", 1)]:
        await executor.submit_task(label, note, label, priority=priority)

    # Act
    gate.opened.set()
    await executor.join(timeout=5)

    # Assert
    assert order == ["z", "a1", "a2", "a3", "b1", "c1", "c2"]


async def test_executor_high_priority_behind_10000_starts_within_half_ms_p99(
    start_executor: StartExecutor,
) -> None:
    # Arrange: 10,000 low-priority tasks queued behind a busy single worker
    executor = await start_executor(config=one_lane(workers=1, max_queue=10_100))
    started_at = 0.0
    started = asyncio.Event()
    low_runs = 0

    async def low() -> None:
        nonlocal low_runs
        low_runs += 1

    async def high(gate: asyncio.Event) -> None:
        nonlocal started_at
        started_at = time.perf_counter()
        started.set()
        await gate.wait()

    release = asyncio.Event()
    await executor.submit_task("high", high, release, priority=0)
    await started.wait()
    for _ in range(10_000):
        await executor.submit_task("low", low, priority=9)
    latencies = []

    # Act: each round frees the worker and measures when the next high-priority task starts
    for _ in range(300):
        gate, release = release, asyncio.Event()
        started.clear()
        await executor.submit_task("high", high, release, priority=0)
        freed = time.perf_counter()
        gate.set()
        await started.wait()
        latencies.append((started_at - freed) * 1000.0)

    # Assert: structurally, no low task slipped in; in time, p50 well under 0.5 ms and p99
    # under 2 ms (4x margin over the goal for a shared, noisy machine; the bench prints the real p99)
    assert low_runs == 0
    assert executor.statistics().lane("work").queued == 10_000
    latencies.sort()
    assert latencies[len(latencies) // 2] < 0.5
    assert latencies[int(len(latencies) * 0.99) - 1] < 2.0
    release.set()


async def test_executor_priority_task_result_reports_priority_and_wait(start_executor: StartExecutor) -> None:
    # Arrange
    executor = await start_executor(config=one_lane())

    async def job() -> int:
        return 7

    # Act
    task_id = await executor.submit_task("job", job, priority=3)
    assert task_id is not None
    result = await executor.wait_task(task_id, timeout=5)

    # Assert
    assert (result.status, result.priority, result.result, result.summary) == (
        TaskStatus.COMPLETED,
        3,
        7,
        "7",
    )
    assert result.wait_ms is not None and result.wait_ms >= 0
    assert result.run_ms is not None and result.run_ms >= 0
