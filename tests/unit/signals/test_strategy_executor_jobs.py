"""Point 9: job records in a lane's store; unfinished records after a restart."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.unit.signals.conftest import Gate, one_lane
from trading.clock import TestClock
from trading.signals import (
    InMemoryJobStore,
    JobRecord,
    JobStore,
    LaneConfig,
    StrategyExecutor,
    TaskOutcome,
)
from trading.storage import Database, JobRepository


class RecordingStore(InMemoryJobStore):
    """The reference store, also keeping the sequence of statuses written per task."""

    def __init__(self) -> None:
        super().__init__()
        self.history: dict[str, list[str]] = {}

    def record(self, job: JobRecord) -> None:
        self.history.setdefault(job.task_id, []).append(job.status)
        super().record(job)


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """An InMemoryJobStore, or a JobRepository on a real SQLite file."""
    if request.param == "memory":
        yield InMemoryJobStore()
        return
    with Database(tmp_path / "desk.db") as db:
        yield JobRepository(db)


async def sweep(account: str) -> TaskOutcome:
    return TaskOutcome(
        f"swept {account}", {"actions": ["flatten ES"], "value_before": 1.5, "value_after": 0.0}
    )


async def broken() -> None:
    raise ValueError("no prices")


async def test_executor_lane_with_store_records_every_task_final_fields(store: Any) -> None:
    # Arrange
    clock = TestClock(datetime(2026, 3, 2, 15, 0, tzinfo=UTC))
    executor = StrategyExecutor(clock=clock, job_stores={"risk": store})

    # Act
    async with executor:
        ok_id = await executor.submit_task(
            "risk-sweep", sweep, "acct-1", lane="risk", key="acct-1", priority=2
        )
        bad_id = await executor.submit_task("risk-sweep", broken, lane="risk", key="acct-2")
        other = await executor.submit_task("strategy", sweep, "x", lane="strategies")
        assert ok_id and bad_id and other
        await executor.join(timeout=5)

    # Assert
    ok, bad = store.get(ok_id), store.get(bad_id)
    assert store.get(other) is None  # the strategies lane has no store
    assert (ok.status, ok.name, ok.lane, ok.key, ok.priority, ok.attempts) == (
        "COMPLETED",
        "risk-sweep",
        "risk",
        "acct-1",
        2,
        1,
    )
    assert ok.created_at == ok.started_at == ok.finished_at == clock.now()
    assert ok.duration_ms is not None and ok.duration_ms >= 0
    assert ok.result_summary == "swept acct-1"
    assert ok.details == {"actions": ["flatten ES"], "value_before": 1.5, "value_after": 0.0}
    assert (bad.status, bad.error_class, bad.error_message) == ("FAILED", "ValueError", "no prices")


async def test_executor_store_sees_pending_running_then_final() -> None:
    # Arrange
    store = RecordingStore()
    executor = StrategyExecutor(config=one_lane(retry_backoff=0.001), job_stores={"work": store})
    calls = 0

    async def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("once")
        return "ok"

    # Act
    async with executor:
        task_id = await executor.submit_task("flaky", flaky, retries=1)
        assert task_id is not None
        await executor.wait_task(task_id, timeout=5)

    # Assert
    assert store.history[task_id] == ["PENDING", "RUNNING", "PENDING", "RUNNING", "COMPLETED"]
    assert store.get(task_id).attempts == 2  # type: ignore[union-attr]


def unfinished_record(task_id: str, status: str, lane: str = "risk", key: str | None = None) -> JobRecord:
    return JobRecord(
        task_id=task_id,
        name="risk-sweep",
        lane=lane,
        status=status,
        key=key,
        priority=1,
        created_at=datetime(2026, 3, 2, 14, 0, tzinfo=UTC),
        started_at=datetime(2026, 3, 2, 14, 0, 1, tzinfo=UTC) if status == "RUNNING" else None,
    )


async def test_executor_restart_marks_unfinished_records_abandoned(
    store: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # Arrange: a previous process left one PENDING and one RUNNING record, and one finished
    store.record(unfinished_record("old-1", "PENDING"))
    store.record(unfinished_record("old-2", "RUNNING"))
    store.record(unfinished_record("old-3", "COMPLETED"))
    clock = TestClock(datetime(2026, 3, 2, 16, 0, tzinfo=UTC))
    executor = StrategyExecutor(clock=clock, job_stores={"risk": store})

    # Act
    with caplog.at_level(logging.WARNING, logger="trading.signals"):
        async with executor:
            pass

    # Assert
    assert [store.get(t).status for t in ("old-1", "old-2", "old-3")] == [
        "ABANDONED",
        "ABANDONED",
        "COMPLETED",
    ]
    old2 = store.get("old-2")
    assert (old2.finished_at, old2.error_class) == (clock.now(), "Abandoned")
    assert old2.error_message == "the process ended while the task was RUNNING"
    assert store.unfinished("risk") == []
    assert executor.statistics().lane("risk").abandoned == 2
    assert (
        "lane risk: 2 unfinished job(s) from a previous run marked ABANDONED, 0 resubmitted"
        in caplog.messages
    )


async def test_executor_durable_lane_resubmits_unfinished_through_resolver(store: Any) -> None:
    # Arrange
    store.record(unfinished_record("old-1", "RUNNING", lane="risk", key="acct-1"))
    store.record(unfinished_record("old-2", "PENDING", lane="risk", key="gone"))
    ran: list[str] = []

    def resolver(record: JobRecord) -> Any:
        if record.key == "gone":
            return None  # the account no longer exists: abandon

        async def again() -> str:
            ran.append(record.task_id)
            return f"re-ran {record.key}"

        return again

    config = one_lane().model_copy(
        update={"lanes": (LaneConfig(name="risk", workers=2, durable=True),), "default_lane": "risk"}
    )
    executor = StrategyExecutor(config=config, job_stores={"risk": store}, resolver=resolver)

    # Act
    async with executor:
        await executor.join(timeout=5)
        in_flight_key = await executor.submit_task("x", asyncio.sleep, 0, key="acct-1")

    # Assert
    assert ran == ["old-1"]
    assert (store.get("old-1").status, store.get("old-1").result_summary) == ("COMPLETED", "re-ran acct-1")
    assert store.get("old-2").status == "ABANDONED"
    lane = executor.statistics().lane("risk")
    assert (lane.resubmitted, lane.abandoned) == (1, 1)
    assert in_flight_key is not None  # the key was released when the resubmitted task ended


class FailingStore:
    def __init__(self) -> None:
        self.calls = 0

    def record(self, job: JobRecord) -> None:
        self.calls += 1
        raise OSError("disk full")

    def unfinished(self, lane: str) -> list[JobRecord]:
        raise OSError("disk full")


async def test_executor_failing_store_task_still_runs_error_counted_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Arrange
    failing = FailingStore()
    assert isinstance(failing, JobStore)
    executor = StrategyExecutor(config=one_lane(), job_stores={"work": failing})

    # Act
    with caplog.at_level(logging.WARNING, logger="trading.signals"):
        async with executor:
            task_id = await executor.submit_task("job", asyncio.sleep, 0, "v")
            assert task_id is not None
            result = await executor.wait_task(task_id, timeout=5)

    # Assert
    assert result.result == "v"
    lane = executor.statistics().lane("work")
    assert lane.store_errors == 1 + failing.calls  # the unfinished() read, then every record()
    assert failing.calls == 3
    assert "lane work: could not read unfinished job records" in caplog.messages
    assert any(
        m.startswith(f"lane work: job store failed to record task {task_id} (PENDING)")
        for m in caplog.messages
    )


async def test_executor_clear_completed_uses_injected_clock() -> None:
    # Arrange
    clock = TestClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    executor = StrategyExecutor(config=one_lane(), clock=clock)
    gate = Gate()
    async with executor:
        old = await executor.submit_task("old", asyncio.sleep, 0)
        assert old is not None
        await executor.wait_task(old, timeout=5)
        clock.advance(timedelta(hours=23))
        new = await executor.submit_task("new", asyncio.sleep, 0)
        running = await executor.submit_task("running", gate)
        assert new and running
        await executor.wait_task(new, timeout=5)
        clock.advance(timedelta(hours=2))

        # Act
        cleared = executor.clear_completed_tasks(max_age_hours=24)

        # Assert
        assert cleared == 1
        assert executor.get_task_status(old) is None
        assert executor.get_task_status(new) is not None
        assert executor.get_task_status(running) is not None
        gate.opened.set()
