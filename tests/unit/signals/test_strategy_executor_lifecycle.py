"""Point 7: start/stop lifecycle; stop cancels everything and leaves no task running."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from tests.unit.signals.conftest import Gate, one_lane
from trading.signals import StrategyExecutor, TaskStatus


def workers_of(executor: StrategyExecutor) -> list[asyncio.Task[None]]:
    return [w for lane in executor._lanes.values() for w in lane.workers]


async def cpu_async(stop_after_s: float) -> int:
    """CPU-only work that awaits between chunks (a coroutine that never awaits blocks the loop)."""
    end, n = time.perf_counter() + stop_after_s, 0
    while time.perf_counter() < end:
        n += sum(range(2_000))
        await asyncio.sleep(0)
    return n


def cpu_thread(stop_after_s: float, stop: threading.Event) -> int:
    end, n = time.perf_counter() + stop_after_s, 0
    while time.perf_counter() < end and not stop.is_set():
        n += sum(range(2_000))
    return n


async def test_executor_stop_with_every_worker_busy_on_cpu_jobs_ends_all_workers() -> None:
    # Arrange: 3 async CPU jobs and 3 thread CPU jobs on 6 workers, more queued behind
    executor = StrategyExecutor(config=one_lane(workers=6, max_queue=50))
    await executor.__aenter__()
    workers = workers_of(executor)
    threads_stop = threading.Event()
    ids = []
    for i in range(12):
        if i % 2:
            ids.append(await executor.submit_task("cpu-async", cpu_async, 30.0))
        else:
            ids.append(await executor.submit_task("cpu-thread", cpu_thread, 30.0, threads_stop))
    await asyncio.sleep(0.05)
    assert executor.statistics().lane("work").running == 6

    # Act
    t0 = time.perf_counter()
    stopped = await executor.stop(timeout=2.0)
    elapsed = time.perf_counter() - t0
    threads_stop.set()  # let the uninterruptible threads end (the doc says they run on)

    # Assert
    assert stopped and elapsed < 2.0
    assert len(workers) == 6 and all(w.done() for w in workers)
    lane = executor.statistics().lane("work")
    assert (lane.running, lane.queued, lane.cancelled, lane.submitted) == (0, 0, 12, 12)
    results = [executor.get_task_status(t) for t in ids if t]
    assert {r.status for r in results if r} == {TaskStatus.CANCELLED}
    assert {r.error_message for r in results if r} == {
        "executor stopped while it ran",
        "executor stopped: stop() was called",
    }
    assert executor.state == "STOPPED"
    assert await executor.submit_task("late", cpu_async, 0.0) is None


async def test_executor_job_swallowing_cancellation_once_still_stopped() -> None:
    # Arrange
    executor = StrategyExecutor(config=one_lane(workers=1))
    await executor.__aenter__()
    swallowed = asyncio.Event()

    async def stubborn() -> None:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            swallowed.set()  # a badly written strategy: swallows, then keeps going
        await asyncio.sleep(30)

    await executor.submit_task("stubborn", stubborn)
    await asyncio.sleep(0.01)
    workers = workers_of(executor)

    # Act
    stopped = await executor.stop(timeout=2.0)

    # Assert
    assert stopped and swallowed.is_set() and all(w.done() for w in workers)


async def test_executor_start_runs_until_stop() -> None:
    # Arrange
    executor = StrategyExecutor(config=one_lane())
    runner = asyncio.create_task(executor.start())
    await asyncio.sleep(0)
    task_id = await executor.submit_task("job", asyncio.sleep, 0, "x")
    assert task_id is not None
    assert (await executor.wait_task(task_id, timeout=5)).result == "x"

    # Act
    assert not runner.done()
    await executor.stop()
    await asyncio.wait_for(runner, 1)

    # Assert
    assert runner.done() and not runner.cancelled() and executor.state == "STOPPED"


async def test_executor_runner_cancelled_propagates_and_stops_workers() -> None:
    # Arrange
    executor = StrategyExecutor(config=one_lane(workers=2))
    runner = asyncio.create_task(executor.start())
    gate = Gate()
    await asyncio.sleep(0)
    await executor.submit_task("held", gate)
    await gate.started.wait()
    workers = workers_of(executor)

    # Act
    runner.cancel()
    with pytest.raises(asyncio.CancelledError):
        await runner
    await asyncio.wait(workers, timeout=2)

    # Assert: the cancellation was not swallowed, and nothing is left running
    assert runner.cancelled()
    assert all(w.done() for w in workers)
    assert executor.statistics().lane("work").cancelled == 1


async def test_executor_restart_after_stop_raises() -> None:
    # Arrange
    executor = StrategyExecutor(config=one_lane())
    async with executor:
        pass

    # Act / Assert
    with pytest.raises(RuntimeError, match="cannot start from state STOPPED"):
        await executor.__aenter__()


async def test_executor_stop_before_start_cancels_queued_tasks() -> None:
    # Arrange: submitting before start queues; the tasks run once started
    executor = StrategyExecutor(config=one_lane())
    task_id = await executor.submit_task("early", asyncio.sleep, 0)
    assert task_id is not None

    # Act
    assert await executor.stop()

    # Assert
    result = executor.get_task_status(task_id)
    assert result is not None and result.status is TaskStatus.CANCELLED
