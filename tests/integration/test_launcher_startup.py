"""The launcher's start-up and stop: the restart policy from the first second, one stop line."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from scripts._runner_children import streamlit_health
from scripts.run_live_dashboard import DashboardRunner
from tests.integration._launcher import Launcher, all_gone, free_port
from tests.unit.dashboard.conftest import build_snapshot, write_database, write_heartbeat, write_snapshot


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    """A desk's state directory (hand-built; no desk runs: the runners here attach)."""
    now = datetime.now(UTC)
    write_snapshot(tmp_path, build_snapshot(now))
    write_database(tmp_path, now)
    write_heartbeat(tmp_path, now.timestamp())
    return tmp_path


class StreamlitKiller:
    """SIGKILLs each new Streamlit pid of ``runner`` as soon as it appears, ``times`` times,
    noting whether ``start()`` had returned yet."""

    def __init__(self, runner: DashboardRunner, times: int) -> None:
        self.runner = runner
        self.times = times
        self.killed: list[int] = []
        self.during_startup: list[bool] = []
        self.start_returned = threading.Event()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> StreamlitKiller:
        self._thread.start()
        return self

    def _run(self) -> None:
        while len(self.killed) < self.times and not self._done.wait(0.005):
            pid = self.runner.get_status().pids.get("streamlit")
            if pid is not None and pid not in self.killed:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    continue  # already reaped by a restart: wait for the next pid
                self.killed.append(pid)
                self.during_startup.append(not self.start_returned.is_set())

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join(timeout=5)


@pytest.fixture
def runner(state_dir: Path) -> Iterator[DashboardRunner]:
    r = DashboardRunner(
        port=free_port(),
        refresh_interval=2,
        state_dir=state_dir,
        executor=False,
        backoff_initial=0.2,
        poll_interval=0.2,
    )
    yield r
    r.stop()


@pytest.mark.slow
def test_runner_streamlit_killed_during_startup_restarted_then_healthy(
    runner: DashboardRunner, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="scripts"), StreamlitKiller(runner, times=1) as killer:
        started = runner.start(timeout=60)
        killer.start_returned.set()

    assert started is True
    assert killer.during_startup == [True]
    status = runner.get_status()
    assert status.restarts == {"streamlit": 1} and status.pids["streamlit"] not in killer.killed
    assert streamlit_health(runner.url).ok
    messages = [r.getMessage() for r in caplog.records]
    assert "streamlit exited with code -9: restart 1/5 in 0.2 s" in messages
    assert any(m.startswith("streamlit healthy again after ") and " s (pid " in m for m in messages), messages


@pytest.mark.slow
def test_runner_streamlit_killed_past_limit_during_startup_gives_up_with_reason(
    state_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    runner = DashboardRunner(
        port=free_port(), state_dir=state_dir, executor=False, backoff_initial=0.1, restart_limit=1
    )
    try:
        with caplog.at_level(logging.WARNING, logger="scripts"), StreamlitKiller(runner, times=2) as killer:
            started = runner.start(timeout=60)
            killer.start_returned.set()
        status = runner.get_status()
    finally:
        runner.stop()

    assert started is False and killer.during_startup == [True, True]
    assert status.failed == ("streamlit",) and status.restarts == {"streamlit": 1}
    assert status.problem == "streamlit exited with code -9; restart limit (1) reached"
    assert all_gone(killer.killed, within=5)


@pytest.mark.slow
def test_runner_desk_restart_logs_healthy_again_after_seconds(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    runner = DashboardRunner(
        port=free_port(), state_dir=tmp_path / "state", backoff_initial=0.2, poll_interval=0.2
    )
    try:
        assert runner.start(timeout=60)
        old = runner.get_status().pids["desk"]
        assert old is not None
        with caplog.at_level(logging.INFO, logger="scripts._runner_supervisor"):
            os.kill(old, signal.SIGKILL)
            deadline = time.monotonic() + 20
            while not any("desk healthy again" in r.getMessage() for r in caplog.records):
                assert time.monotonic() < deadline, caplog.text
                time.sleep(0.1)
            new = runner.get_status().pids["desk"]
    finally:
        runner.stop()

    again = [r.getMessage() for r in caplog.records if "healthy again" in r.getMessage()]
    assert len(again) == 1
    seconds = float(again[0].removeprefix("desk healthy again after ").split(" s ")[0])
    assert seconds > 0
    assert again[0].endswith(f"(pid {new}, restart 1)") and new != old


@pytest.mark.slow
def test_cli_one_sigterm_to_process_group_logged_once_with_sender(state_dir: Path) -> None:
    with Launcher(state_dir, "--no-executor") as launcher:
        assert launcher.proc is not None
        children = list(launcher.children().values())

        os.killpg(launcher.proc.pid, signal.SIGTERM)  # the launcher leads its own group
        time.sleep(0.05)
        try:
            os.kill(launcher.proc.pid, signal.SIGTERM)  # a supervisor insisting: still one line
        except ProcessLookupError:
            pass
        code = launcher.proc.wait(timeout=30)
        err = launcher.stderr()

    assert code == 0
    stopping = [line for line in err.splitlines() if "stopping" in line]
    assert len(stopping) == 1, err
    me = f"{os.getpid()} ({Path(f'/proc/{os.getpid()}/comm').read_text().strip()}, the launcher's parent)"
    assert stopping[0].endswith(f"INFO scripts.run_live_dashboard: received SIGTERM from pid {me}: stopping")
    children_logs = "".join(p.read_text() for p in (state_dir / "logs").glob("*.log"))
    assert "received SIGTERM" not in children_logs
    assert all_gone(children, within=5)
