"""StopSignals: the first stop signal is logged once with its sender; repeats are quiet."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from types import SimpleNamespace

import pytest

from scripts._runner_signals import StopSignals, describe_sender


def _info(pid: int, code: int = 0) -> SimpleNamespace:
    return SimpleNamespace(si_pid=pid, si_code=code, si_signo=int(signal.SIGTERM))


def test_describe_sender_kill_from_pid_names_program() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert describe_sender(_info(child.pid)).startswith(f"from pid {child.pid} (python")
    finally:
        child.kill()
        child.wait()


def test_describe_sender_parent_named_as_parent() -> None:
    assert describe_sender(_info(os.getppid())).endswith("the launcher's parent)")


def test_describe_sender_terminal_and_unknown() -> None:
    assert describe_sender(_info(0, code=0x80)) == "from the kernel (a terminal's Ctrl-C)"
    assert describe_sender(None) == "from an unknown sender"


def test_stop_signals_repeat_logged_once_callbacks_once(caplog: pytest.LogCaptureFixture) -> None:
    signals = StopSignals()
    calls: list[str] = []
    signals.on_stop(lambda: calls.append("stop"))

    with caplog.at_level(logging.DEBUG, logger="scripts.run_live_dashboard"):
        signals.deliver(signal.SIGTERM, _info(0, code=0x80))
        signals.deliver(signal.SIGTERM, _info(0, code=0x80))
        signals.deliver(signal.SIGINT, None)

    infos = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert infos == ["received SIGTERM from the kernel (a terminal's Ctrl-C): stopping"]
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG] == [
        "received SIGTERM from the kernel (a terminal's Ctrl-C): already stopping",
        "received SIGINT from an unknown sender: already stopping",
    ]
    assert calls == ["stop"] and signals.received == "SIGTERM from the kernel (a terminal's Ctrl-C)"


def test_stop_signals_callback_after_signal_called_at_once() -> None:
    signals = StopSignals()
    signals.deliver(signal.SIGINT, None)
    calls: list[str] = []

    signals.on_stop(lambda: calls.append("late"))

    assert calls == ["late"]
