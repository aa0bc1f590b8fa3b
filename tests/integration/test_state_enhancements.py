"""Whole-system test of the StateManager (issue 2): the desk writes snapshots from a worker
thread, the dashboard in another process polls the token and reloads only on change."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from trading.memory import StateManager
from trading.snapshot import SNAPSHOT_KEY, AccountView, Series, Snapshot

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
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
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
