"""The whole-system suite the original design named: each subsystem exercised the way the
running product uses it, across threads, processes and restarts.

Sections: StateManager (issue 2), StrategyExecutor (issue 3), StateManager + executor,
the whole desk (issue 6), the DashboardRunner (issue 7).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from trading.memory import StateManager
from trading.signals import ExecutorConfig, JobRecord, LaneConfig, StrategyExecutor, TaskOutcome, TaskStatus
from trading.snapshot import SNAPSHOT_KEY, AccountView, LaneView, Series, Snapshot
from trading.storage import Database, JobRepository

ROOT = Path(__file__).resolve().parents[1]


# --- StateManager ------------------------------------------------------------------------

_READER = """
import sys, time
from trading.memory import StateManager
from trading.snapshot import SNAPSHOT_KEY
sm = StateManager(sys.argv[1])
token, loads, polls, last = None, 0, 0, -1
deadline = time.monotonic() + 20
while time.monotonic() < deadline:
    polls += 1
    now = sm.version_token()
    if now is not None and now != token:
        sm.load()
        token = now
        loads += 1
        snap = sm.get(SNAPSHOT_KEY)
        assert snap.desk_pid >= last, (snap.desk_pid, last)
        assert len(snap.equity_curve) == snap.desk_pid + 1
        last = snap.desk_pid
        if last == 29:
            break
    time.sleep(0.001)
print(loads, polls, last)
sm.close()
"""


def _snapshot(i: int) -> Snapshot:
    now = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)
    account = AccountView(
        cash=1e5,
        equity=1e5 + i,
        buying_power=4e5,
        realized_pnl=float(i),
        unrealized_pnl=0.0,
        commissions=0.0,
        starting_balance=1e5,
        daily_realized_pnl=float(i),
        daily_pnl=float(i),
    )
    curve = Series(np.arange(i + 1, dtype=np.float64), np.full(i + 1, 1e5 + i))
    return Snapshot(
        taken_at=now,
        heartbeat=now.timestamp(),
        desk_pid=i,
        started_at=now,
        trading_state="ACTIVE",
        state_reason="",
        paused=False,
        account=account,
        equity_curve=curve,
        daily_pnl=Series.empty(),
    )


def test_state_desk_writer_thread_and_dashboard_process_see_every_published_snapshot(tmp_path: Path) -> None:
    path = tmp_path / "state.pkl"
    desk = StateManager(path)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    reader = subprocess.Popen(
        [sys.executable, "-c", _READER, str(path)], stdout=subprocess.PIPE, text=True, env=env
    )
    published = threading.Event()

    def publish() -> None:  # the desk's worker thread
        for i in range(30):
            desk.set(SNAPSHOT_KEY, _snapshot(i))
            desk.save()
            published.wait(0.02)  # pacing between publishes, not waiting for a timer under test

    worker = threading.Thread(target=publish)
    worker.start()
    worker.join()
    out, _ = reader.communicate(timeout=60)
    desk.close()

    assert reader.returncode == 0, out
    loads, polls, last = (int(x) for x in out.split())
    assert last == 29
    assert 1 <= loads <= min(30, polls)  # reloads only when the token changed
    final = StateManager(path)
    final.load()
    assert final.get(SNAPSHOT_KEY).account.equity == 1e5 + 29
    final.close()


# --- StrategyExecutor --------------------------------------------------------------------


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


# --- StateManager + StrategyExecutor ---------------------------------------------------


async def test_strategy_run_by_executor_writes_state_seen_by_second_state_manager(tmp_path: Path) -> None:
    path = tmp_path / "state.pkl"
    store = StateManager(path)

    async def strategy(step: int) -> dict[str, object]:
        with store.transaction() as state:  # read-modify-write under the cross-process lock
            runs = state.get("runs", 0) + 1
            state.set("runs", runs)
            state.set("last_step", step)
        return {"summary": f"step {step}", "details": {"runs": runs}}

    async with StrategyExecutor(max_concurrent_tasks=4) as executor:
        ids = [await executor.submit_task("stateful", strategy, i, priority=i % 3) for i in range(40)]
        await executor.join()
        results = [executor.get_task_status(task_id) for task_id in ids]

    assert all(r is not None and r.status is TaskStatus.COMPLETED for r in results)
    reader = StateManager(path)
    assert reader.load()
    assert reader.get("runs") == 40
    assert reader.get("last_step") in range(40)
    reader.close()
    store.close()


# --- the whole desk ------------------------------------------------------------------------


def _wait(predicate, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")


def _latest(path: Path) -> Snapshot | None:
    reader = StateManager(path)
    try:
        reader.load()
        snap = reader.get(SNAPSHOT_KEY)
        return snap if isinstance(snap, Snapshot) else None
    finally:
        reader.close()


@pytest.mark.slow
def test_whole_desk_process_trades_risk_acts_and_flatten_command_halts(tmp_path: Path) -> None:
    import yaml

    from trading.storage import CommandRepository

    config = yaml.safe_load((ROOT / "config" / "desk.yaml").read_text())
    config["clock"]["speed"] = 60  # a simulated hour a real minute
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    (config_dir / "desk.yaml").write_text(yaml.safe_dump(config))
    (config_dir / "risk.yaml").write_text((ROOT / "config" / "risk.yaml").read_text())
    state = tmp_path / "state"
    proc = subprocess.Popen(
        [sys.executable, "scripts/run_executor.py", "--config", str(config_dir / "desk.yaml"),
         "--state", str(state), "--log-level", "ERROR", "--operator", "pytest"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        _wait(lambda: (state / "state.pkl").exists(), 30, "the first snapshot")
        _wait(
            lambda: (s := _latest(state / "state.pkl")) is not None
            and any(t.status == "CLOSED" for t in s.transactions)
            and any(not v.shadow for v in s.violations),
            90, "a closed trade and a risk rule acting",
        )  # fmt: skip
        with Database(state / "desk.db") as db:
            command = CommandRepository(db).submit("flatten_all", {"reason": "whole-system test"}, "pytest")
        _wait(lambda: (s := _latest(state / "state.pkl")) is not None and s.paused and not s.positions,
              30, "the flatten command to take effect")  # fmt: skip
        with Database(state / "desk.db") as db:
            done = CommandRepository(db).get(command)
            jobs = JobRepository(db)
            assert done["status"] == "done", done
            assert jobs.count(lane="risk", status="COMPLETED") >= 3  # one sweep a real second
        snap = _latest(state / "state.pkl")
        assert snap.trading_state == "HALTED"
        assert snap.account.equity != snap.account.starting_balance
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=30)
        stderr = proc.stderr.read()
        proc.stderr.close()
    assert code == 0, stderr


# --- DashboardRunner ---------------------------------------------------------------------


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.slow
def test_dashboard_runner_starts_desk_and_streamlit_healthy_and_stops_both(tmp_path: Path) -> None:
    import urllib.request

    from scripts.run_live_dashboard import DashboardRunner

    runner = DashboardRunner(port=_free_port(), refresh_interval=2, state_dir=tmp_path / "state")
    try:
        assert runner.start() is True
        status = runner.get_status()
        with urllib.request.urlopen(f"{status.url}/_stcore/health", timeout=5) as response:
            assert response.read() == b"ok"
        assert set(status.pids) == {"desk", "streamlit"} and status.running
        pids = list(status.pids.values())
        # the desk behind it publishes (its first publish may trail Streamlit's health on a busy machine)
        _wait(lambda: _latest(tmp_path / "state" / "state.pkl") is not None, 15, "the desk's first snapshot")
    finally:
        runner.stop()
    _wait(lambda: not any(_alive(pid) for pid in pids), 10, "both children to exit")
    assert not runner.get_status().running


def test_dashboard_runner_cli_bad_port_exits_2_with_one_line() -> None:
    result = subprocess.run(
        [sys.executable, "scripts/run_live_dashboard.py", "-p", "80"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert "invalid port 80: allowed 1024-65535" in result.stderr
