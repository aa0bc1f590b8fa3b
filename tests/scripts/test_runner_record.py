"""The launcher's record and the cleanup after a dead launcher: only what it started is stopped."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scripts._runner_record import LauncherRecord, ProcessId, stop_left_behind
from tests.integration._launcher import alive
from trading.state_dir import StateDir

IGNORES_TERM = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('up', flush=True); time.sleep(60)"
SLEEPS = "import time; print('up', flush=True); time.sleep(60)"


def _process(code: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    assert proc.stdout is not None and proc.stdout.readline() == "up\n"  # its handlers are set
    return proc


def _dead_process() -> ProcessId:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    pid = ProcessId.of(proc.pid)
    proc.wait()
    assert pid is not None
    return pid


def _id(pid: int) -> ProcessId:
    found = ProcessId.of(pid)
    assert found is not None
    return found


def _me() -> ProcessId:
    return _id(os.getpid())


def test_process_id_same_pid_other_start_time_not_alive() -> None:
    me = _me()

    assert me.alive()
    assert not ProcessId(me.pid, me.started - 100).alive()  # a reused pid is another process
    assert not _dead_process().alive()


def test_launcher_record_write_read_round_trip(tmp_path: Path) -> None:
    layout = StateDir(tmp_path)
    record = LauncherRecord(_me(), {"desk": ProcessId(1234, 1.5e9), "streamlit": ProcessId(1235, 1.5e9)})

    record.write(layout)

    assert LauncherRecord.path(layout) == tmp_path / "run" / "launcher.json"
    assert LauncherRecord.read(layout) == record


def test_launcher_record_garbage_reads_none_with_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    layout = StateDir(tmp_path)
    LauncherRecord.path(layout).parent.mkdir()
    LauncherRecord.path(layout).write_text('{"launcher": {"pid": "x"}, "children": {}}')

    with caplog.at_level(logging.WARNING, logger="scripts._runner_record"):
        assert LauncherRecord.read(layout) is None

    assert [r.getMessage() for r in caplog.records] == [
        f"unreadable launcher record {LauncherRecord.path(layout)}: pid must be a positive integer, got 'x'"
    ]


def test_launcher_record_remove_leaves_another_launchers_record(tmp_path: Path) -> None:
    layout = StateDir(tmp_path)
    mine = LauncherRecord(_me())
    theirs = LauncherRecord(_dead_process())
    theirs.write(layout)

    mine.remove(layout)
    assert LauncherRecord.read(layout) == theirs

    theirs.remove(layout)
    assert not LauncherRecord.path(layout).exists()


def test_stop_left_behind_launcher_alive_nothing_stopped(tmp_path: Path) -> None:
    layout = StateDir(tmp_path)
    child = _process(SLEEPS)
    try:
        LauncherRecord(_me(), {"desk": _id(child.pid)}).write(layout)

        assert stop_left_behind(layout, ("desk", "streamlit"), timeout=1) == []
        assert alive(child.pid) and LauncherRecord.path(layout).exists()
    finally:
        child.kill()
        child.wait()
        child.stdout.close()


def test_stop_left_behind_dead_launcher_children_stopped_record_removed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    layout = StateDir(tmp_path)
    desk, stubborn, other = _process(SLEEPS), _process(IGNORES_TERM), _process(SLEEPS)
    try:
        launcher = _dead_process()
        LauncherRecord(launcher, {"desk": _id(desk.pid), "streamlit": _id(stubborn.pid)}).write(layout)

        with caplog.at_level(logging.WARNING, logger="scripts._runner_record"):
            began = time.monotonic()
            lines = stop_left_behind(layout, ("desk", "streamlit"), timeout=0.5)

        assert desk.wait(timeout=1) == -signal.SIGTERM
        assert stubborn.wait(timeout=1) == -signal.SIGKILL
        assert time.monotonic() - began < 5
        assert alive(other.pid)  # not in the record: untouched
        assert not LauncherRecord.path(layout).exists()
        assert [line.split(" after ")[0] for line in lines] == [
            f"desk (pid {desk.pid}) stopped",
            f"streamlit (pid {stubborn.pid}) killed (it ignored SIGTERM)",
        ]
        assert caplog.records[0].getMessage() == (
            f"desk (pid {desk.pid}) was left running by launcher pid {launcher.pid}, which is gone: "
            "stopping it (SIGTERM)"
        )
    finally:
        for proc in (desk, stubborn, other):
            proc.kill()
            proc.wait()
            proc.stdout.close()


def test_stop_left_behind_only_names_asked_for(tmp_path: Path) -> None:
    layout = StateDir(tmp_path)
    desk = _process(SLEEPS)
    try:
        LauncherRecord(_dead_process(), {"desk": _id(desk.pid)}).write(layout)

        assert stop_left_behind(layout, ("streamlit",), timeout=1) == []  # attach mode keeps the desk

        assert alive(desk.pid) and LauncherRecord.path(layout).exists()
    finally:
        desk.kill()
        desk.wait()
        desk.stdout.close()
