"""BackgroundJobStore: records queued on the caller's thread, written by one writer thread."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from trading.signals import StrategyExecutor, TaskStatus
from trading.signals.jobs import JobRecord
from trading.storage import BackgroundJobStore, Database, JobRepository

T0 = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)


def _job(task_id: str, status: str = "PENDING", lane: str = "risk") -> JobRecord:
    return JobRecord(task_id=task_id, name="risk_sweep", lane=lane, status=status, created_at=T0)


def test_job_writer_latest_record_of_a_task_wins_after_flush(db: Database):
    store = BackgroundJobStore(JobRepository(db))
    store.record(_job("t1"))
    store.record(_job("t1", "RUNNING"))
    store.record(_job("t1", "COMPLETED").with_status("COMPLETED", finished_at=T0 + timedelta(seconds=1)))

    assert store.flush()

    found = JobRepository(db).get("t1")
    assert found is not None and found.status == "COMPLETED"
    store.close()


def test_job_writer_unfinished_sees_records_still_queued(db: Database):
    store = BackgroundJobStore(JobRepository(db))
    store.record(_job("a"))
    store.record(_job("b", "RUNNING"))
    store.record(_job("c", "COMPLETED"))

    assert [j.task_id for j in store.unfinished("risk")] == ["a", "b"]
    store.close()


def test_job_writer_many_threads_lose_nothing_and_close_writes_the_rest(db: Database):
    store = BackgroundJobStore(JobRepository(db))

    def work(n: int) -> None:
        for i in range(300):
            store.record(_job(f"{n}-{i}", "COMPLETED", lane=f"lane{n % 2}"))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    store.close()

    repo = JobRepository(db)
    assert repo.count() == 2_400
    assert store.statistics().written == 2_400 and store.statistics().errors == 0


def test_job_writer_bad_records_are_refused_or_dropped_alone(db: Database):
    store = BackgroundJobStore(JobRepository(db))

    with pytest.raises(TypeError, match="record needs a JobRecord, got dict"):
        store.record({"task_id": "x"})  # type: ignore[arg-type]
    store.record(
        JobRecord(task_id="y", name="n", lane="risk", status="PENDING", created_at=T0,
                  details=["not", "a", "mapping"])  # type: ignore[arg-type]
    )  # fmt: skip
    store.record(_job("good"))

    store.flush()
    assert [j.task_id for j in JobRepository(db).list()] == ["good"]  # the bad one alone is dropped
    assert store.statistics().errors == 1
    store.close()
    with pytest.raises(RuntimeError, match="closed"):
        store.record(_job("z"))


async def test_job_writer_as_the_executors_store_records_every_task(db: Database):
    store = BackgroundJobStore(JobRepository(db))

    async def sweep() -> dict[str, str]:
        return {"summary": "ok"}

    async with StrategyExecutor(job_stores={"risk": store}) as executor:
        ids = [
            await executor.submit_task("risk_sweep", sweep, lane="risk") for _ in range(80)
        ]  # the risk lane queues 100
        await executor.join()
        assert all(executor.get_task_status(i).status is TaskStatus.COMPLETED for i in ids)
    store.close()

    repo = JobRepository(db)
    assert repo.count(lane="risk", status="COMPLETED") == 80
    assert {j.result_summary for j in repo.list(lane="risk", limit=100)} == {"ok"}
