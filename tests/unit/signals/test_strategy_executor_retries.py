"""Point 8: retries with exponential backoff; the result keeps every attempt."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.unit.signals.conftest import StartExecutor, one_lane
from trading.signals import StrategyExecutor, TaskStatus


class Flaky:
    """Fails ``failures`` times (the last failure as a hang when ``hang``), then returns "ok"."""

    def __init__(self, failures: int, hang: bool = False) -> None:
        self.calls = 0
        self.failures = failures
        self.hang = hang

    async def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            if self.hang and self.calls == self.failures:
                await asyncio.sleep(30)
            raise ConnectionError(f"attempt {self.calls} failed")
        return "ok"


async def test_executor_retries_until_success_keeps_every_attempt(start_executor: StartExecutor) -> None:
    # Arrange
    executor = await start_executor(config=one_lane(retry_backoff=0.01, retry_backoff_max=1.0))
    flaky = Flaky(failures=2, hang=True)

    # Act
    task_id = await executor.submit_task("flaky", flaky, retries=3, timeout=0.05)
    assert task_id is not None
    result = await executor.wait_task(task_id, timeout=5)

    # Assert
    assert (result.status, result.result, flaky.calls) == (TaskStatus.COMPLETED, "ok", 3)
    attempts = [(a.number, a.status, a.error_class, a.backoff_s) for a in result.attempts]
    assert attempts == [
        (1, TaskStatus.FAILED, "ConnectionError", 0.01),
        (2, TaskStatus.TIMEOUT, "TimeoutError", 0.02),
        (3, TaskStatus.COMPLETED, "", 0.0),
    ]
    assert result.error_class == "" and result.attempts[0].error_message == "attempt 1 failed"
    lane = executor.statistics().lane("work")
    assert (lane.retried, lane.completed, lane.failed, lane.timeouts) == (2, 1, 0, 0)
    assert executor.strategy_statistics()["flaky"].runs == 3


async def test_executor_retries_exhausted_ends_failed_and_calls_handler_once() -> None:
    # Arrange
    contexts: list[dict[str, Any]] = []
    executor = StrategyExecutor(
        config=one_lane(retry_backoff=0.001), exception_handler=lambda ex, ctx: contexts.append(ctx)
    )
    flaky = Flaky(failures=10)

    # Act
    async with executor:
        task_id = await executor.submit_task("flaky", flaky, retries=2)
        assert task_id is not None
        result = await executor.wait_task(task_id, timeout=5)

    # Assert
    assert (result.status, flaky.calls, len(result.attempts)) == (TaskStatus.FAILED, 3, 3)
    assert [a.backoff_s for a in result.attempts] == [0.001, 0.002, 0.0]
    assert len(contexts) == 1 and "after 3 attempt(s)" in contexts[0]["message"]


async def test_executor_backoff_capped_by_retry_backoff_max(start_executor: StartExecutor) -> None:
    # Arrange
    executor = await start_executor(config=one_lane(retry_backoff=0.004, retry_backoff_max=0.005))

    # Act
    task_id = await executor.submit_task("flaky", Flaky(failures=3), retries=3)
    assert task_id is not None
    result = await executor.wait_task(task_id, timeout=5)

    # Assert
    assert [a.backoff_s for a in result.attempts] == [0.004, 0.005, 0.005, 0.0]


async def test_executor_cancel_during_backoff_ends_cancelled_and_frees_key(
    start_executor: StartExecutor,
) -> None:
    # Arrange: a long backoff, so the task sits in it
    executor = await start_executor(config=one_lane(retry_backoff=30.0))
    flaky = Flaky(failures=1)
    task_id = await executor.submit_task("flaky", flaky, retries=1, key="acct")
    assert task_id is not None
    while executor.statistics().lane("work").retried == 0:
        await asyncio.sleep(0.001)
    lane = executor.statistics().lane("work")
    assert (lane.queued, lane.running, lane.submitted) == (1, 0, 1)  # waiting for its retry counts as queued

    # Act
    cancelled = executor.cancel_task(task_id)

    # Assert
    result = executor.get_task_status(task_id)
    assert cancelled and result is not None and result.status is TaskStatus.CANCELLED
    assert len(result.attempts) == 1 and flaky.calls == 1
    assert await executor.submit_task("flaky", Flaky(0), key="acct") is not None
    assert executor.statistics().lane("work").queued <= 1


async def test_executor_stop_during_backoff_cancels_pending_retry() -> None:
    # Arrange
    executor = StrategyExecutor(config=one_lane(retry_backoff=30.0))
    await executor.__aenter__()
    task_id = await executor.submit_task("flaky", Flaky(failures=1), retries=1)
    assert task_id is not None
    while executor.statistics().lane("work").retried == 0:
        await asyncio.sleep(0.001)

    # Act
    await executor.stop()

    # Assert
    result = executor.get_task_status(task_id)
    assert result is not None and result.status is TaskStatus.CANCELLED
    assert executor.statistics().lane("work").queued == 0
