"""The parent-death signal: a child dies when the launcher thread that started it ends."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

from scripts import _runner_deathsig
from scripts._runner_children import ChildProcess
from tests.integration._launcher import alive, all_gone

pytestmark = pytest.mark.skipif(not _runner_deathsig.available, reason="PR_SET_PDEATHSIG is Linux only")

SLEEPER = "import time; time.sleep(60)"


def _child(tmp_path: Path, deathsig: signal.Signals) -> ChildProcess:
    return ChildProcess(
        "sleeper",
        [sys.executable, "-c", SLEEPER],
        cwd=tmp_path,
        env=dict(os.environ),
        log_path=tmp_path / "sleeper.log",
        deathsig=deathsig,
    )


def _start_in_thread(child: ChildProcess, *, keep: threading.Event | None = None) -> threading.Thread:
    """Start ``child`` from a new thread that ends at once (or once ``keep`` is set)."""

    def run() -> None:
        if keep is not None:
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})  # as the launcher's threads
        child.start()
        if keep is not None:
            keep.wait(30)

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_deathsig_thread_that_started_child_ends_child_killed(tmp_path: Path) -> None:
    child = _child(tmp_path, signal.SIGKILL)
    try:
        _start_in_thread(child).join()
        assert child.pid is not None

        assert all_gone([child.pid], within=2.0)
        assert child.poll() == -signal.SIGKILL
    finally:
        child.stop(timeout=1)


def test_deathsig_starting_thread_alive_child_lives_and_sigterm_not_blocked(tmp_path: Path) -> None:
    child = _child(tmp_path, signal.SIGTERM)
    keep = threading.Event()
    thread = _start_in_thread(child, keep=keep)
    try:
        deadline = time.monotonic() + 10
        while child.pid is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert child.pid is not None
        time.sleep(0.3)
        assert alive(child.pid)

        os.kill(child.pid, signal.SIGTERM)  # the thread blocked SIGTERM; the child must not inherit it

        assert all_gone([child.pid], within=2.0)
        assert child.poll() == -signal.SIGTERM
    finally:
        keep.set()
        thread.join()
        child.stop(timeout=1)


def test_parent_death_signal_repr_names_signal_and_parent() -> None:
    assert repr(_runner_deathsig.ParentDeathSignal(signal.SIGTERM)) == (
        f"ParentDeathSignal(SIGTERM, parent_pid={os.getpid()}, available=True)"
    )
