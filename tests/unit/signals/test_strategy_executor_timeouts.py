"""Point 3: per-task timeouts cancel the coroutine; plain callables run in threads."""

from __future__ import annotations

import asyncio
import threading
import time

from tests.unit.signals.conftest import Gate, StartExecutor, one_lane
from trading.signals import StrategyExecutor, TaskStatus


async def test_executor_slow_task_ends_timeout_and_its_coroutine_is_cancelled(
    start_executor: StartExecutor,
) -> None:
    # Arrange
    executor = await start_executor(config=one_lane())
    seen: list[str] = []

    async def slow() -> None:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            seen.append("cancelled")
            raise

    # Act
    task_id = await executor.submit_task("slow", slow, timeout=0.05)
    assert task_id is not None
    result = await executor.wait_task(task_id, timeout=5)

    # Assert
    assert result.status is TaskStatus.TIMEOUT
    assert (result.error_class, result.error_message) == ("TimeoutError", "timed out after 0.05 s")
    assert seen == ["cancelled"]
    assert result.run_ms is not None and 40 <= result.run_ms < 2000
    assert executor.statistics().lane("work").timeouts == 1


async def test_executor_no_timeout_given_uses_default_timeout(start_executor: StartExecutor) -> None:
    # Arrange
    executor = await start_executor(config=one_lane(default_timeout=0.05))

    # Act
    task_id = await executor.submit_task("slow", asyncio.sleep, 30)
    assert task_id is not None
    result = await executor.wait_task(task_id, timeout=5)

    # Assert
    assert result.status is TaskStatus.TIMEOUT and result.error_message == "timed out after 0.05 s"


async def test_executor_task_raising_its_own_timeouterror_ends_failed(start_executor: StartExecutor) -> None:
    # Arrange
    executor = await start_executor(config=one_lane())

    async def raises() -> None:
        raise TimeoutError("upstream feed did not answer")

    # Act
    task_id = await executor.submit_task("raises", raises)
    assert task_id is not None
    result = await executor.wait_task(task_id, timeout=5)

    # Assert
    assert result.status is TaskStatus.FAILED
    assert (result.error_class, result.error_message) == ("TimeoutError", "upstream feed did not answer")


async def test_executor_short_timeout_after_long_one_on_same_worker_still_fires(
    start_executor: StartExecutor,
) -> None:
    # Arrange: one worker; the first task arms a far deadline, the next needs an earlier one
    executor = await start_executor(config=one_lane(workers=1))

    async def quick() -> str:
        return "done"

    first = await executor.submit_task("long-timeout", quick, timeout=600)
    second = await executor.submit_task("short-timeout", asyncio.sleep, 30, timeout=0.05)
    third = await executor.submit_task("long-again", asyncio.sleep, 0.1, timeout=600)
    assert first and second and third

    # Act
    results = [await executor.wait_task(t, timeout=5) for t in (first, second, third)]

    # Assert: the short one timed out; the one after it is not hit by the stale timer
    assert [r.status for r in results] == [TaskStatus.COMPLETED, TaskStatus.TIMEOUT, TaskStatus.COMPLETED]


async def test_executor_plain_callable_runs_in_thread_and_timeout_ends_task_not_thread(
    start_executor: StartExecutor,
) -> None:
    # Arrange
    executor = await start_executor(config=one_lane())
    release = threading.Event()
    threads: list[str] = []

    def blocking() -> str:
        threads.append(threading.current_thread().name)
        release.wait(10)
        return "finished"

    def add(a: int, b: int) -> int:
        return a + b

    # Act
    slow_id = await executor.submit_task("blocking", blocking, timeout=0.05)
    add_id = await executor.submit_task("add", add, 2, 3)
    assert slow_id and add_id
    slow = await executor.wait_task(slow_id, timeout=5)
    added = await executor.wait_task(add_id, timeout=5)
    release.set()

    # Assert
    assert slow.status is TaskStatus.TIMEOUT
    assert (added.status, added.result) == (TaskStatus.COMPLETED, 5)
    assert threads and threads[0].startswith("lane-work")


async def test_executor_worker_cancelled_as_its_job_finishes_still_ends() -> None:
    # Arrange: the job's awaited future completes in the same loop pass as stop() cancels
    executor = StrategyExecutor(config=one_lane(workers=2))
    await executor.__aenter__()
    loop = asyncio.get_running_loop()
    futures = [loop.create_future() for _ in range(2)]
    gates = [Gate(), Gate()]

    async def job(i: int) -> None:
        gates[i].started.set()
        await futures[i]

    for i in range(2):
        await executor.submit_task(f"job{i}", job, i)
    await asyncio.gather(*(g.started.wait() for g in gates))
    workers = [w for lane in executor._lanes.values() for w in lane.workers]

    # Act
    for fut in futures:
        fut.set_result(None)
    t0 = time.perf_counter()
    stopped = await executor.stop(timeout=2)

    # Assert: the cancellation was not swallowed, every worker ended, well within the timeout
    assert stopped and all(w.done() for w in workers)
    assert time.perf_counter() - t0 < 2
    assert executor.statistics().running == 0
