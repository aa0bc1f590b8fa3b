"""Point 6: errors classified, per-strategy statistics, failures grouped, the exception handler."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from tests.unit.signals.conftest import StartExecutor, one_lane
from trading.signals import StrategyExecutor, TaskOutcome, TaskStatus


async def fails_with(exc: Exception) -> None:
    raise exc


async def test_executor_each_ending_classified_with_error_class(start_executor: StartExecutor) -> None:
    # Arrange
    executor = await start_executor(config=one_lane(workers=2))

    # Act
    ids = {
        "value": await executor.submit_task("s", fails_with, ValueError("bad bar")),
        "key": await executor.submit_task("s", fails_with, KeyError("ES")),
        "timeout": await executor.submit_task("s", asyncio.sleep, 10, timeout=0.05),
    }
    cancelled = await executor.submit_task("s", asyncio.sleep, 10)
    await asyncio.sleep(0)
    assert cancelled is not None and executor.cancel_task(cancelled)
    results = {k: await executor.wait_task(v, timeout=5) for k, v in ids.items() if v}
    results["cancelled"] = await executor.wait_task(cancelled, timeout=5)

    # Assert
    got = {k: (r.status, r.error_class, r.error_message) for k, r in results.items()}
    assert got == {
        "value": (TaskStatus.FAILED, "ValueError", "bad bar"),
        "key": (TaskStatus.FAILED, "KeyError", "'ES'"),
        "timeout": (TaskStatus.TIMEOUT, "TimeoutError", "timed out after 0.05 s"),
        "cancelled": (TaskStatus.CANCELLED, "CancelledError", "cancelled by cancel_task()"),
    }


async def test_executor_strategy_statistics_count_runs_and_durations(start_executor: StartExecutor) -> None:
    # Arrange
    executor = await start_executor(config=one_lane(workers=4))

    async def strategy(fail: bool) -> str:
        await asyncio.sleep(0.001)
        if fail:
            raise RuntimeError("no data")
        return "ok"

    # Act
    ids = [await executor.submit_task("ma_es", strategy, i % 4 == 0) for i in range(20)]
    await executor.submit_task("revert", asyncio.sleep, 10, timeout=0.02)
    await executor.join(timeout=5)

    # Assert: the figures are the mean and nearest-rank p95 of the tasks' own run times
    stats = executor.strategy_statistics()
    ma = stats["ma_es"]
    assert (ma.runs, ma.successes, ma.failures, ma.timeouts) == (20, 15, 5, 0)
    results = [executor.get_task_status(task_id) for task_id in ids if task_id is not None]
    run_ms = sorted(r.run_ms for r in results if r is not None and r.run_ms is not None)
    assert len(run_ms) == 20
    assert ma.mean_ms == pytest.approx(sum(run_ms) / 20)
    assert ma.p95_ms == run_ms[18]  # rank ceil(0.95 * 20) = 19
    assert ma.p95_ms >= 1.0  # each run sleeps at least 1 ms
    assert (stats["revert"].runs, stats["revert"].timeouts) == (1, 1)


async def test_executor_failed_tasks_summary_groups_by_name_and_class(start_executor: StartExecutor) -> None:
    # Arrange
    executor = await start_executor(config=one_lane(workers=2))

    # Act
    for exc in (ValueError("a"), ValueError("b"), KeyError("k")):
        await executor.submit_task("ma_es", fails_with, exc)
    await executor.submit_task("revert", fails_with, ValueError("c"))
    await executor.submit_task("revert", asyncio.sleep, 10, timeout=0.02)
    await executor.join(timeout=5)

    # Assert
    summary = executor.get_failed_tasks_summary()
    counts = {name: {cls: g.count for cls, g in groups.items()} for name, groups in summary.items()}
    assert counts == {
        "ma_es": {"KeyError": 1, "ValueError": 2},
        "revert": {"TimeoutError": 1, "ValueError": 1},
    }
    assert summary["ma_es"]["ValueError"].last_message == "b"
    assert executor.get_metrics()["failures"] == counts


async def test_executor_failure_goes_to_injected_exception_handler() -> None:
    # Arrange
    contexts: list[dict[str, Any]] = []
    executor = StrategyExecutor(config=one_lane(), exception_handler=lambda ex, ctx: contexts.append(ctx))
    boom = RuntimeError("boom")

    # Act
    async with executor:
        task_id = await executor.submit_task("s", fails_with, boom)
        assert task_id is not None
        await executor.wait_task(task_id, timeout=5)

    # Assert
    assert len(contexts) == 1
    assert contexts[0]["exception"] is boom
    assert contexts[0]["task"].task_id == task_id and contexts[0]["task"].status is TaskStatus.FAILED
    assert (
        contexts[0]["message"]
        == f"task {task_id} 's' in lane work failed after 1 attempt(s): RuntimeError: boom"
    )


async def test_executor_default_handler_logs_error_with_traceback(
    start_executor: StartExecutor, caplog: pytest.LogCaptureFixture
) -> None:
    # Arrange
    executor = await start_executor(config=one_lane())

    # Act
    with caplog.at_level(logging.ERROR, logger="trading.signals"):
        task_id = await executor.submit_task("s", fails_with, RuntimeError("boom"))
        assert task_id is not None
        await executor.wait_task(task_id, timeout=5)

    # Assert
    assert [r.getMessage() for r in caplog.records] == [
        f"task {task_id} 's' in lane work failed after 1 attempt(s): RuntimeError: boom"
    ]
    assert caplog.records[0].exc_info is not None


async def test_executor_broken_handler_is_logged_and_worker_survives(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Arrange
    def broken(executor: StrategyExecutor, context: dict[str, Any]) -> None:
        raise LookupError("handler bug")

    executor = StrategyExecutor(config=one_lane(), exception_handler=broken)

    # Act
    async with executor:
        await executor.submit_task("s", fails_with, RuntimeError("boom"))
        second = await executor.submit_task("s", asyncio.sleep, 0, "fine")
        assert second is not None
        result = await executor.wait_task(second, timeout=5)

    # Assert
    assert result.status is TaskStatus.COMPLETED and result.result == "fine"
    assert any(r.getMessage().startswith("executor exception handler failed on task") for r in caplog.records)


async def test_executor_result_summary_and_details_from_outcome_or_dict(
    start_executor: StartExecutor,
) -> None:
    # Arrange
    executor = await start_executor(config=one_lane())

    async def outcome() -> TaskOutcome:
        return TaskOutcome(
            "flattened 2", {"actions": ["flatten ES"], "value_before": 10.0, "value_after": 0.0}
        )

    async def as_dict() -> dict[str, Any]:
        return {"summary": "no action", "details": {"actions": []}}

    # Act
    a = await executor.wait_task(await executor.submit_task("risk", outcome), timeout=5)  # type: ignore[arg-type]
    b = await executor.wait_task(await executor.submit_task("risk", as_dict), timeout=5)  # type: ignore[arg-type]

    # Assert
    assert (a.summary, a.details["actions"], a.details["value_after"]) == ("flattened 2", ["flatten ES"], 0.0)
    assert (b.summary, b.details, b.result) == (
        "no action",
        {"actions": []},
        {"summary": "no action", "details": {"actions": []}},
    )
