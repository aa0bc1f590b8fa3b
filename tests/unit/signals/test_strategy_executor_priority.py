"""Point 1: lower priority number runs first, FIFO within a priority, also behind a backlog."""

from __future__ import annotations

import asyncio

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


async def test_executor_high_priority_behind_10000_runs_before_every_low(
    start_executor: StartExecutor,
) -> None:
    # Arrange: 10,000 low-priority tasks queued behind a busy single worker
    executor = await start_executor(config=one_lane(workers=1, max_queue=10_100))
    started = asyncio.Event()
    order: list[str] = []

    async def low() -> None:
        order.append("low")

    async def high(gate: asyncio.Event) -> None:
        order.append("high")
        started.set()
        await gate.wait()

    release = asyncio.Event()
    await executor.submit_task("high", high, release, priority=0)
    await started.wait()
    for _ in range(10_000):
        await executor.submit_task("low", low, priority=9)

    # Act: each round frees the worker; the next task to start must be the new high one
    for _ in range(300):
        gate, release = release, asyncio.Event()
        started.clear()
        await executor.submit_task("high", high, release, priority=0)
        gate.set()
        await started.wait()

    # Assert: no low task slipped in, the backlog is intact (latency figures: bench/bench_executor.py)
    assert order == ["high"] * 301
    assert executor.statistics().lane("work").queued == 10_000
    release.set()
    await executor.join(timeout=30)
    assert order[301:] == ["low"] * 10_000


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
