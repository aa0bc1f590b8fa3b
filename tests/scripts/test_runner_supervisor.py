"""SupervisedChild: bad input at start-up gives up at once; a restart reports when healthy again."""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path

import pytest

from scripts._runner_children import ChildProcess, HealthResult
from scripts._runner_supervisor import RestartPolicy, SupervisedChild


def _child(tmp_path: Path, code: str) -> ChildProcess:
    return ChildProcess(
        "worker",
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=dict(os.environ),
        log_path=tmp_path / "w.log",
    )


def _ok() -> HealthResult:
    return HealthResult(True, "ok", time.time())


def test_supervised_child_exit_2_before_healthy_gives_up_at_once_with_its_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    child = _child(
        tmp_path, "import sys; print('worker.py: error: bad.yaml: field x', file=sys.stderr); sys.exit(2)"
    )
    supervised = SupervisedChild(child, _ok, RestartPolicy(limit=5))
    supervised.start(100.0)
    assert child.proc is not None
    child.proc.wait(timeout=30)

    with caplog.at_level(logging.WARNING, logger="scripts._runner_supervisor"):
        supervised.tick(100.5)

    assert supervised.failed and supervised.gave_up_on_bad_input and supervised.restarts == 0
    assert supervised.failure == (
        "worker exited with code 2 before it was ever healthy: worker.py: error: bad.yaml: field x"
    )
    assert [r.getMessage() for r in caplog.records] == [f"{supervised.failure}: giving up"]


def test_supervised_child_exit_2_after_healthy_restarted(tmp_path: Path) -> None:
    flag = tmp_path / "exit-now"
    code = f"import os, sys, time\nwhile not os.path.exists({str(flag)!r}): time.sleep(0.01)\nsys.exit(2)"
    child = _child(tmp_path, code)
    supervised = SupervisedChild(child, _ok, RestartPolicy(limit=5, backoff_initial=60.0))
    supervised.start(100.0)
    try:
        supervised.tick(100.5)  # running and healthy
        assert child.proc is not None and supervised.ever_healthy
        flag.touch()
        assert child.proc.wait(timeout=30) == 2

        supervised.tick(101.0)

        assert not supervised.failed and supervised.restarts == 1
    finally:
        child.stop(timeout=1)


def test_supervised_child_restart_then_healthy_logs_healthy_again_after_seconds(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    child = _child(tmp_path, "import time; time.sleep(60)")
    healthy = [True]
    supervised = SupervisedChild(
        child, lambda: HealthResult(healthy[0], "ok" if healthy[0] else "down", time.time()),
        RestartPolicy(limit=3, backoff_initial=0.5, unhealthy_after=2.0),
    )  # fmt: skip
    supervised.start(100.0)
    try:
        with caplog.at_level(logging.INFO, logger="scripts._runner_supervisor"):
            supervised.tick(100.2)  # first healthy
            healthy[0] = False
            supervised.tick(101.0)
            supervised.tick(102.5)  # unhealthy 2.3 s: restart scheduled for 103.0
            supervised.tick(103.0)  # restarted
            supervised.tick(103.5)  # still down
            healthy[0] = True
            supervised.tick(104.0)  # healthy again: 1.5 s after the failure was seen

        messages = [r.getMessage() for r in caplog.records]
        assert messages[0] == f"worker healthy (pid {messages[0].split('pid ')[1][:-1]})"
        assert messages[1] == "worker unhealthy for 2 s: down: restart 1/3 in 0.5 s"
        assert messages[2] == f"worker healthy again after 1.5 s (pid {child.pid}, restart 1)"
        assert len(messages) == 3 and supervised.healthy
    finally:
        child.stop(timeout=1)


def test_supervised_child_waiting_for_restart_not_healthy(tmp_path: Path) -> None:
    child = _child(tmp_path, "import sys; sys.exit(1)")
    supervised = SupervisedChild(child, _ok, RestartPolicy(limit=3, backoff_initial=5.0))
    supervised.start(100.0)
    assert child.proc is not None
    child.proc.wait(timeout=30)
    supervised.last_health = _ok()  # its last check said ok before it died

    supervised.tick(100.5)

    assert supervised.restarts == 1 and not supervised.healthy
