"""The executor as the desk runs it: two lanes, keyed risk sweeps, a real SQLite job store,
a desk process killed mid-job and restarted, lane statistics into the snapshot schema."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from dataclasses import fields
from pathlib import Path

from trading.signals import ExecutorConfig, JobRecord, LaneConfig, StrategyExecutor, TaskOutcome, TaskStatus
from trading.snapshot import LaneView
from trading.storage import Database, JobRepository

ROOT = Path(__file__).resolve().parents[2]

DESK = textwrap.dedent(
    """
    import asyncio, sys
    from trading.signals import StrategyExecutor
    from trading.storage import Database, JobRepository

    async def sweep():
        print("RUNNING", flush=True)
        await asyncio.sleep(600)

    async def main():
        with Database(sys.argv[1]) as db:
            async with StrategyExecutor(job_stores={"risk": JobRepository(db)}) as executor:
                task_id = await executor.submit_task("risk-sweep", sweep, lane="risk", key="acct-1")
                queued = await executor.submit_task("risk-sweep", sweep, lane="risk", key="acct-2")
                behind = await executor.submit_task("risk-sweep", sweep, lane="risk", key="acct-3")
                print("IDS", task_id, queued, behind, flush=True)
                await asyncio.sleep(600)

    asyncio.run(main())
    """
)


def run_desk_until_running(db_path: Path) -> list[str]:
    """Start a desk process with a risk sweep in flight, kill it with SIGKILL, return the task ids."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with subprocess.Popen(
        [sys.executable, "-c", DESK, str(db_path)], stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT
    ) as proc:
        try:
            assert proc.stdout is not None
            lines = [proc.stdout.readline().split() for _ in range(3)]
            ids = next(line[1:] for line in lines if line and line[0] == "IDS")
            assert sum(line == ["RUNNING"] for line in lines) == 2  # two risk workers busy
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            assert proc.stdout is not None
            proc.stdout.close()
    return ids


async def test_executor_desk_killed_mid_sweep_restart_abandons_its_jobs(tmp_path: Path) -> None:
    # Arrange: a real desk process dies (SIGKILL) with two sweeps running and one queued
    db_path = tmp_path / "desk.db"
    ids = await asyncio.to_thread(run_desk_until_running, db_path)

    # Act: the next desk starts on the same database
    with Database(db_path) as db:
        repo = JobRepository(db)
        assert {j.status for j in repo.unfinished("risk")} == {"RUNNING", "PENDING"}
        async with StrategyExecutor(job_stores={"risk": repo}) as executor:
            fresh = await executor.submit_task("risk-sweep", asyncio.sleep, 0, lane="risk", key="acct-1")
            assert fresh is not None
            await executor.wait_task(fresh, timeout=5)
            stats = executor.statistics().lane("risk")

        # Assert
        records = [repo.get(t) for t in ids]
        assert [r.status for r in records if r] == ["ABANDONED", "ABANDONED", "ABANDONED"]
        assert (
            records[0] is not None
            and records[0].error_message == "the process ended while the task was RUNNING"
        )
        assert (
            records[2] is not None
            and records[2].error_message == "the process ended while the task was PENDING"
        )
        assert stats.abandoned == 3 and repo.get(fresh).status == "COMPLETED"  # type: ignore[union-attr]


async def test_executor_durable_risk_lane_restart_reruns_killed_sweeps(tmp_path: Path) -> None:
    # Arrange
    db_path = tmp_path / "desk.db"
    ids = await asyncio.to_thread(run_desk_until_running, db_path)
    rerun: list[str] = []

    def resolver(record: JobRecord) -> object:
        async def sweep_again() -> TaskOutcome:
            rerun.append(record.key or "")
            return TaskOutcome(
                f"re-swept {record.key}", {"actions": [], "value_before": 0.0, "value_after": 0.0}
            )

        return sweep_again

    config = ExecutorConfig(
        lanes=(LaneConfig(name="strategies", workers=10), LaneConfig(name="risk", workers=2, durable=True)),
    )

    # Act
    with Database(db_path) as db:
        repo = JobRepository(db)
        async with StrategyExecutor(config=config, job_stores={"risk": repo}, resolver=resolver) as executor:
            await executor.join(timeout=10)

        # Assert
        assert sorted(rerun) == ["acct-1", "acct-2", "acct-3"]
        records = [repo.get(t) for t in ids]
        assert [(r.status, r.result_summary) for r in records if r] == [
            ("COMPLETED", "re-swept acct-1"),
            ("COMPLETED", "re-swept acct-2"),
            ("COMPLETED", "re-swept acct-3"),
        ]
        assert repo.unfinished("risk") == []


async def test_executor_desk_shape_flood_and_sweeps_publish_lane_views(tmp_path: Path) -> None:
    # Arrange: the desk's two lanes, a strategy flood, periodic keyed risk sweeps on SQLite
    with Database(tmp_path / "desk.db") as db:
        repo = JobRepository(db)
        async with StrategyExecutor(
            max_queue_size=50, max_concurrent_tasks=10, default_timeout=1.0, job_stores={"risk": repo}
        ) as executor:

            async def strategy(i: int) -> str:
                await asyncio.sleep(0.002)
                return f"pass {i}"

            async def sweep(account: str) -> TaskOutcome:
                await asyncio.sleep(0.001)
                return TaskOutcome("ok", {"actions": [], "value_before": 100.0, "value_after": 100.0})

            # Act
            accepted = refused = 0
            sweeps = []
            for _ in range(20):
                for i in range(20):
                    if await executor.submit_task("ma_es", strategy, i, priority=5) is None:
                        refused += 1
                    else:
                        accepted += 1
                for account in ("acct-1", "acct-2"):
                    sweeps.append(
                        await executor.submit_task(
                            "risk-sweep", sweep, account, lane="risk", key=account, priority=0
                        )
                    )
                await asyncio.sleep(0.005)
            await executor.join(timeout=20)
            stats = executor.statistics()

        # Assert
        views = [
            LaneView(**{f.name: getattr(lane, f.name) for f in fields(LaneView)}) for lane in stats.lanes
        ]
        by_lane = {v.lane: v for v in views}
        assert by_lane["strategies"].completed == accepted and accepted + refused == 400
        assert by_lane["risk"].completed == sum(s is not None for s in sweeps) > 0
        assert all(v.submitted == v.completed for v in views)
        done = [repo.get(s) for s in sweeps if s]
        assert all(r is not None and r.status == TaskStatus.COMPLETED.value for r in done)
        assert by_lane["risk"].p99_wait_ms < 1000
