"""Point 4: lanes are separate worker pools; a strategy flood never delays a risk job."""

from __future__ import annotations

import asyncio

from tests.unit.signals.conftest import StartExecutor
from trading.signals import ExecutorConfig, LaneConfig, StrategyExecutor, TaskStatus


async def test_executor_default_lanes_are_strategies_10_and_risk_2() -> None:
    # Arrange / Act
    executor = StrategyExecutor(max_queue_size=50, max_concurrent_tasks=10, default_timeout=5.0)

    # Assert
    lanes = {lane.lane: (lane.workers, lane.max_queue) for lane in executor.statistics().lanes}
    assert lanes == {"strategies": (10, 50), "risk": (2, 50)}
    assert repr(executor) == (
        "StrategyExecutor(state=NEW, strategies: 0/10 running, 0/50 queued, risk: 0/2 running, 0/50 queued)"
    )


async def test_executor_saturated_strategies_lane_risk_jobs_run_strategies_untouched(
    start_executor: StartExecutor,
) -> None:
    # Arrange: every strategy worker busy with a slow task and the strategy queue full
    executor = await start_executor(max_queue_size=100, max_concurrent_tasks=10)
    hold = asyncio.Event()
    for _ in range(10):
        await executor.submit_task("slow-strategy", hold.wait, lane="strategies")
    await asyncio.sleep(0)
    for _ in range(100):
        assert await executor.submit_task("slow-strategy", hold.wait, lane="strategies") is not None
    assert executor.statistics().lane("strategies").running == 10
    assert await executor.submit_task("one-more", hold.wait, lane="strategies") is None
    seen: list[tuple[int, int, int]] = []

    async def risk_sweep() -> float:
        strategies = executor.statistics().lane("strategies")
        seen.append((strategies.running, strategies.queued, strategies.completed))
        return 0.0

    # Act
    for i in range(50):
        task_id = await executor.submit_task("risk-sweep", risk_sweep, lane="risk", key="acct")
        assert task_id is not None, i
        assert (await executor.wait_task(task_id, timeout=5)).status is TaskStatus.COMPLETED

    # Assert: every risk job ran while the strategies lane stayed saturated and untouched
    # (the start latency of a risk job is a figure of bench/bench_executor.py)
    assert seen == [(10, 100, 0)] * 50
    strategies = executor.statistics().lane("strategies")
    assert (strategies.running, strategies.queued, strategies.completed) == (10, 100, 0)
    assert executor.statistics().lane("risk").completed == 50
    hold.set()


async def test_executor_custom_lanes_each_own_concurrency(start_executor: StartExecutor) -> None:
    # Arrange
    config = ExecutorConfig(
        lanes=(LaneConfig(name="a", workers=3, max_queue=10), LaneConfig(name="b", workers=1, max_queue=10)),
        default_lane="a",
        resize_interval=None,
    )
    executor = await start_executor(config=config)
    hold = asyncio.Event()

    # Act
    for lane in ("a", "b"):
        for _ in range(5):
            await executor.submit_task("held", hold.wait, lane=lane)
    await asyncio.sleep(0)

    # Assert
    stats = executor.statistics()
    assert (stats.lane("a").running, stats.lane("a").queued) == (3, 2)
    assert (stats.lane("b").running, stats.lane("b").queued) == (1, 4)
    assert (stats.running, stats.queued) == (4, 6)
    hold.set()
    await executor.join(timeout=5)
    assert executor.statistics().totals["COMPLETED"] == 10
