"""Point 5: a key is held while its task is queued or running, and freed however it ends."""

from __future__ import annotations

import asyncio

import pytest

from tests.unit.signals.conftest import Gate, StartExecutor, one_lane
from trading.signals import TaskStatus


async def fails() -> None:
    raise ValueError("bad account")


async def ok() -> str:
    return "ok"


async def test_executor_same_key_while_queued_or_running_is_refused(start_executor: StartExecutor) -> None:
    # Arrange
    executor = await start_executor(config=one_lane(workers=1))
    gate = Gate()
    running = await executor.submit_task("sweep", gate, key="acct-1", lane="work")
    await gate.started.wait()
    queued = await executor.submit_task("sweep", ok, key="acct-2")

    # Act
    again_running = await executor.submit_task("sweep", ok, key="acct-1")
    again_queued = await executor.submit_task("sweep", ok, key="acct-2")
    other = await executor.submit_task("sweep", ok, key="acct-3")

    # Assert
    assert running and queued and other
    assert again_running is None and again_queued is None
    lane = executor.statistics().lane("work")
    assert (lane.deduplicated, lane.rejected, lane.submitted) == (2, 0, 3)
    assert lane.last_rejection == f"key 'acct-2' is held by queued or running task {queued}"
    gate.opened.set()


@pytest.mark.parametrize(
    "ending", ["completed", "failed", "timeout", "cancelled_queued", "cancelled_running", "dropped"]
)
async def test_executor_key_freed_however_task_ends(start_executor: StartExecutor, ending: str) -> None:
    # Arrange
    executor = await start_executor(config=one_lane(workers=1, max_queue=1, overflow="drop_lowest"))
    gate = Gate()
    if ending in ("cancelled_queued", "dropped"):
        await executor.submit_task("gate", gate)
        await gate.started.wait()
    body = {"completed": ok, "failed": fails, "timeout": asyncio.Event().wait}.get(ending, Gate())
    task_id = await executor.submit_task(
        "sweep", body, key="acct", timeout=0.05 if ending == "timeout" else 5, priority=5
    )
    assert task_id is not None

    # Act
    if ending == "cancelled_queued":
        assert executor.cancel_task(task_id)
    elif ending == "cancelled_running":
        await body.started.wait()
        assert executor.cancel_task(task_id)
    elif ending == "dropped":
        assert await executor.submit_task("urgent", ok, priority=0) is not None
    result = await executor.wait_task(task_id, timeout=5)
    gate.opened.set()
    await executor.join(timeout=5)

    # Assert
    expected = {
        "completed": TaskStatus.COMPLETED,
        "failed": TaskStatus.FAILED,
        "timeout": TaskStatus.TIMEOUT,
        "cancelled_queued": TaskStatus.CANCELLED,
        "cancelled_running": TaskStatus.CANCELLED,
        "dropped": TaskStatus.DROPPED,
    }[ending]
    assert result.status is expected
    again = await executor.submit_task("sweep", ok, key="acct")
    assert again is not None
    assert (await executor.wait_task(again, timeout=5)).status is TaskStatus.COMPLETED


async def test_executor_key_held_across_lanes(start_executor: StartExecutor) -> None:
    # Arrange
    executor = await start_executor()
    gate = Gate()
    await executor.submit_task("sweep", gate, key="acct", lane="risk")
    await gate.started.wait()

    # Act
    other_lane = await executor.submit_task("sweep", ok, key="acct", lane="strategies")

    # Assert
    assert other_lane is None
    gate.opened.set()
