"""Point 2: bounded queues with an explicit overflow policy; nothing vanishes."""

from __future__ import annotations

import asyncio
import logging
import random

import pytest

from tests.unit.signals.conftest import Gate, StartExecutor, one_lane
from trading.signals import StrategyExecutor, TaskStatus


async def noop() -> None:
    return None


def assert_accounted(executor: StrategyExecutor) -> None:
    for lane in executor.statistics().lanes:
        assert lane.submitted == lane.accounted, lane


async def test_executor_reject_policy_full_queue_returns_none_and_says_why(
    start_executor: StartExecutor, caplog: pytest.LogCaptureFixture
) -> None:
    # Arrange: the worker is busy, two slots in the queue are taken
    executor = await start_executor(config=one_lane(workers=1, max_queue=2))
    gate = Gate()
    await executor.submit_task("gate", gate)
    await gate.started.wait()
    queued = [await executor.submit_task("q", noop) for _ in range(2)]

    # Act
    with caplog.at_level(logging.WARNING, logger="trading.signals"):
        refused = await executor.submit_task("late", noop)

    # Assert
    assert refused is None and None not in queued
    lane = executor.statistics().lane("work")
    assert (lane.submitted, lane.queued, lane.running, lane.rejected) == (3, 2, 1, 1)
    assert "queue full (2/2), overflow policy reject" in lane.last_rejection
    assert caplog.messages == ["lane work refused task 'late': queue full (2/2), overflow policy reject"]
    gate.opened.set()


async def test_executor_drop_lowest_full_queue_evicts_lowest_newest_and_logs_name_age(
    start_executor: StartExecutor, caplog: pytest.LogCaptureFixture
) -> None:
    # Arrange
    executor = await start_executor(config=one_lane(workers=1, max_queue=3, overflow="drop_lowest"))
    gate = Gate()
    await executor.submit_task("gate", gate)
    await gate.started.wait()
    keep = await executor.submit_task("keep", noop, priority=5)
    old_low = await executor.submit_task("old-low", noop, priority=9)
    new_low = await executor.submit_task("new-low", noop, priority=9)

    # Act
    with caplog.at_level(logging.WARNING, logger="trading.signals"):
        urgent = await executor.submit_task("urgent", noop, priority=1)
        equal = await executor.submit_task("equal", noop, priority=9)  # no more urgent than the lowest

    # Assert
    assert urgent is not None and equal is None
    dropped = executor.get_task_status(new_low)
    assert dropped is not None and dropped.status is TaskStatus.DROPPED and dropped.error_class == "Dropped"
    assert executor.get_task_status(old_low).status is TaskStatus.PENDING
    assert executor.get_task_status(keep).status is TaskStatus.PENDING
    assert len(caplog.records) == 2
    assert caplog.messages[0].startswith(f"lane work dropped task {new_low} 'new-low' (priority 9, queued ")
    assert caplog.messages[0].endswith(" s) for 'urgent' (priority 1)")
    lane = executor.statistics().lane("work")
    assert (lane.dropped, lane.rejected, lane.queued) == (1, 1, 3)
    gate.opened.set()
    await executor.join(timeout=5)
    assert executor.get_task_status(urgent).status is TaskStatus.COMPLETED
    assert_accounted(executor)


async def test_executor_random_mix_every_moment_nothing_vanishes(start_executor: StartExecutor) -> None:
    # Arrange: a seeded mix of fast, failing, slow, timed-out, cancelled and dropped tasks
    rng = random.Random(7)
    executor = await start_executor(
        config=one_lane(workers=3, max_queue=20, overflow="drop_lowest", default_timeout=0.05)
    )
    seen_inside = []

    async def body(kind: str) -> str:
        seen_inside.append(executor.statistics().lane("work"))
        if kind == "fail":
            raise RuntimeError("boom")
        if kind == "slow":
            await asyncio.sleep(1)  # ends by its 0.05 s timeout
        await asyncio.sleep(0)
        return kind

    ids = []

    # Act: submit, cancel and yield in random order, checking the books after every step
    for _ in range(400):
        kind = rng.choice(["ok", "ok", "ok", "fail", "slow"])
        ids.append(await executor.submit_task(kind, body, kind, priority=rng.randint(0, 9)))
        assert_accounted(executor)
        if rng.random() < 0.1:
            executor.cancel_task(rng.choice([i for i in ids if i is not None]))
            assert_accounted(executor)
        if rng.random() < 0.3:
            await asyncio.sleep(0)
            assert_accounted(executor)
    await executor.join(timeout=30)

    # Assert
    stats = executor.statistics().lane("work")
    assert (
        stats.submitted == stats.completed + stats.failed + stats.timeouts + stats.cancelled + stats.dropped
    )
    assert min(stats.completed, stats.failed, stats.timeouts, stats.cancelled, stats.dropped) > 0
    assert stats.submitted + stats.rejected == 400
    assert all(s.submitted == s.accounted for s in seen_inside)
