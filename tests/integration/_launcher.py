"""Helpers for the launcher tests: real launcher and desk processes, watched by pid."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

import psutil

ROOT = Path(__file__).resolve().parents[2]
LAUNCHER = ROOT / "scripts" / "run_live_dashboard.py"
EXECUTOR = ROOT / "scripts" / "run_executor.py"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def alive(pid: int) -> bool:
    """Running, and not a zombie waiting for its (new) parent to reap it."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def all_gone(pids: list[int], *, within: float) -> bool:
    """Every pid has exited (or is a zombie) within ``within`` seconds from now."""
    deadline = time.monotonic() + within
    while any(alive(pid) for pid in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def run_script(script: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(script), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        check=False,
    )


def error_line(result: subprocess.CompletedProcess[str], prog: str) -> str:
    """The one line on stderr after ``<prog>: error: ``; asserts exit code 2 and nothing else."""
    lines = result.stderr.splitlines()
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1, result.stderr
    assert result.stdout == "", result.stdout
    prefix = f"{prog}: error: "
    assert lines[0].startswith(prefix), lines[0]
    return lines[0].removeprefix(prefix)


class Launcher:
    """``run_live_dashboard.py`` as a subprocess in its own process group; stderr to a file.

    ``with Launcher(state) as launcher:`` returns once the launcher printed its URL.
    """

    def __init__(self, state: Path, *args: str, log: Path | None = None) -> None:
        self.state = state
        self.port = free_port()
        self.args = ["-p", str(self.port), "-r", "5", "--state", str(state), *args]
        self.log = log or state.parent / f"launcher-{self.port}.err"
        self.proc: subprocess.Popen[str] | None = None
        self._stderr: IO[str] | None = None

    def __enter__(self) -> Launcher:
        self._stderr = open(self.log, "w")
        self.proc = subprocess.Popen(
            [sys.executable, str(LAUNCHER), *self.args],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            start_new_session=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line.startswith(f"Dashboard: http://127.0.0.1:{self.port}"), (line, self.stderr())
        return self

    def children(self) -> dict[str, int]:
        """The launcher's children by role: ``desk`` and ``streamlit``."""
        assert self.proc is not None
        found = {}
        for child in psutil.Process(self.proc.pid).children():
            cmdline = " ".join(child.cmdline())
            found["desk" if "run_executor.py" in cmdline else "streamlit"] = child.pid
        return found

    def stderr(self) -> str:
        return self.log.read_text() if self.log.exists() else ""

    def stop(self, sig: signal.Signals = signal.SIGTERM, *, timeout: float = 30) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            os.kill(self.proc.pid, sig)
        return self.proc.wait(timeout=timeout)

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
            if self.proc.stdout is not None:
                self.proc.stdout.close()
        if self._stderr is not None:
            self._stderr.close()
