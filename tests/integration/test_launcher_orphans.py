"""The launcher and an ops loop: SIGKILL leaves no orphan, and the next launcher recovers.

Real launchers, desks and Streamlit servers, watched by pid with psutil.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scripts._runner_record import LauncherRecord, ProcessId
from tests.integration._launcher import (
    EXECUTOR,
    LAUNCHER,
    ROOT,
    Launcher,
    alive,
    all_gone,
    error_line,
    free_port,
    run_script,
    wait_for,
)
from trading.state_dir import Heartbeat, StateDir

# An "old launcher" without the parent-death signal: it starts a desk, records both as the
# launcher does, and waits. SIGKILL of it leaves its desk running, as a launcher without
# prctl (or a desk stuck in its shutdown) would.
OLD_LAUNCHER = """
import os, subprocess, sys
from pathlib import Path
sys.path.insert(0, {root!r})
from scripts._runner_record import LauncherRecord, ProcessId
from trading.state_dir import StateDir
desk = subprocess.Popen(
    [sys.executable, {executor!r}, "--state", {state!r}, "--log-level", "WARNING"],
    start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
)
LauncherRecord(ProcessId.of(os.getpid()), {{"desk": ProcessId.of(desk.pid)}}).write(StateDir(Path({state!r})))
print(desk.pid, flush=True)
desk.wait()
"""


def _desk_beating(state: Path, pid: int) -> bool:
    beat = Heartbeat.read(StateDir(state).heartbeat)
    return beat is not None and beat.pid == pid and time.time() - beat.ts < 5


def _refusal(state: Path, pid: int) -> str:
    return (
        f"a desk (pid {pid}) is already running on {state}: use --no-executor to attach to it, "
        "or --state for another directory"
    )


@pytest.mark.slow
def test_launcher_sigkilled_no_child_alive_within_2s_then_relaunch_starts(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with Launcher(state) as first:
        children = first.children()
        assert set(children) == {"desk", "streamlit"}
        record = LauncherRecord.read(StateDir(state))
        assert record is not None and record.launcher.pid == first.proc.pid
        assert {name: pid.pid for name, pid in record.children.items()} == children

        first.stop(signal.SIGKILL)

        assert all_gone(list(children.values()), within=2.0), {n: alive(p) for n, p in children.items()}

    with Launcher(state) as second:
        again = second.children()
        assert set(again) == {"desk", "streamlit"} and not set(again.values()) & set(children.values())
        wait_for(lambda: _desk_beating(state, again["desk"]), 10, "the new desk's heartbeat")
        assert second.stop() == 0
    assert all_gone(list(again.values()), within=5.0)


@pytest.mark.slow
def test_launcher_desk_left_by_dead_launcher_stopped_then_starts(tmp_path: Path) -> None:
    state = tmp_path / "state"
    old = subprocess.Popen(
        [
            sys.executable,
            "-c",
            OLD_LAUNCHER.format(root=str(ROOT), executor=str(EXECUTOR), state=str(state)),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert old.stdout is not None
    old_desk = int(old.stdout.readline())
    try:
        wait_for(lambda: _desk_beating(state, old_desk), 30, "the old launcher's desk")

        # its launcher is alive: refused, desk untouched
        refused = run_script(LAUNCHER, "-p", str(free_port()), "--state", str(state))
        assert error_line(refused, "run_live_dashboard.py") == _refusal(state.resolve(), old_desk)
        assert alive(old_desk)

        old.kill()
        old.wait()
        assert alive(old_desk)  # no death signal in the old launcher: the desk is left behind

        with Launcher(state) as new:
            new_desk = new.children()["desk"]
            assert not alive(old_desk) and new_desk != old_desk
            wait_for(lambda: _desk_beating(state, new_desk), 10, "the new desk's heartbeat")
            log = new.stderr()
            assert (
                f"desk (pid {old_desk}) was left running by launcher pid {old.pid}, which is gone: "
                "stopping it (SIGTERM)" in log
            )
            assert f"desk (pid {old_desk}) stopped after " in log
            assert new.stop() == 0
    finally:
        old.kill()
        old.wait()
        old.stdout.close()
        if alive(old_desk):
            os.kill(old_desk, signal.SIGKILL)


@pytest.mark.slow
def test_launcher_desk_started_by_hand_refused_exit_2(tmp_path: Path) -> None:
    state = tmp_path / "state"
    desk = subprocess.Popen(
        [sys.executable, str(EXECUTOR), "--state", str(state), "--log-level", "WARNING"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: _desk_beating(state, desk.pid), 30, "the hand-started desk's heartbeat")
        # a record of a dead launcher that did not start this desk changes nothing
        gone = subprocess.Popen([sys.executable, "-c", "pass"])
        me = ProcessId.of(gone.pid)
        gone.wait()
        assert me is not None
        LauncherRecord(me, {"desk": ProcessId(desk.pid, me.started)}).write(StateDir(state))

        result = run_script(LAUNCHER, "-p", str(free_port()), "--state", str(state))

        assert error_line(result, "run_live_dashboard.py") == _refusal(state.resolve(), desk.pid)
        assert desk.poll() is None
    finally:
        desk.send_signal(signal.SIGTERM)
        assert desk.wait(timeout=20) == 0
