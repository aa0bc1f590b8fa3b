"""The desk as a real process: clean SIGTERM, exit code 2 with one line for bad input."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from trading.memory import StateManager
from trading.snapshot import SNAPSHOT_KEY
from trading.storage import ActivityLog, Database

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "run_executor.py"


def _run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT
    )


def _one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1, result.stderr
    return lines[0]


def _wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.slow
def test_desk_process_sigterm_exits_zero_with_final_snapshot_and_flushed_log(tmp_path):
    state = tmp_path / "state"
    proc = subprocess.Popen(
        [sys.executable, str(SCRIPT), "--state", str(state), "--log-level", "WARNING"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # state.pkl is made (empty) before the first account row, the heartbeat when the desk runs
        _wait_for(
            lambda: (state / "state.pkl").exists() and (state / "heartbeat.json").exists(),
            30,
            "the running desk",
        )
        beat = json.loads((state / "heartbeat.json").read_text())
        assert beat["pid"] == proc.pid and time.time() - beat["ts"] < 5
        time.sleep(1.5)

        proc.send_signal(signal.SIGTERM)
        sent = time.time()
        code = proc.wait(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()

    assert code == 0
    reader = StateManager(state / "state.pkl")
    reader.load()
    final = reader.get(SNAPSHOT_KEY)
    reader.close()
    assert final.heartbeat >= sent - 0.5  # the snapshot taken at shutdown, after the signal
    db = Database(state / "desk.db")
    log = ActivityLog(db)
    messages = [row["message"] for row in log.recent(limit=5)]
    db.close()
    assert "desk stopped cleanly" in messages


def test_desk_process_bad_flag_exits_2_with_one_line():
    line = _one_error_line(_run("--speed", "9"))
    assert "unrecognized arguments: --speed 9" in line


def test_desk_process_missing_config_exits_2_naming_it(tmp_path):
    line = _one_error_line(_run("--config", str(tmp_path / "nope.yaml"), "--state", str(tmp_path)))
    assert f"{tmp_path / 'nope.yaml'}: config file not found" in line


def test_desk_process_invalid_config_exits_2_naming_field(tmp_path):
    cfg = yaml.safe_load((ROOT / "config" / "desk.yaml").read_text())
    cfg["clock"]["speed"] = "fast"
    path = tmp_path / "desk.yaml"
    path.write_text(yaml.safe_dump(cfg))
    (tmp_path / "risk.yaml").write_text((ROOT / "config" / "risk.yaml").read_text())
    line = _one_error_line(_run("--config", str(path), "--state", str(tmp_path / "s")))
    assert "field 'clock.speed': bad value 'fast'" in line


def test_desk_process_malformed_csv_exits_2_naming_the_line(tmp_path):
    csv = tmp_path / "prices.csv"
    csv.write_text("timestamp,symbol,price\n2026-01-05T14:30:00Z,ES,5000.25\n2026-01-05T14:30:01Z,ES,oops\n")
    cfg = yaml.safe_load((ROOT / "config" / "desk.yaml").read_text())
    cfg["feed"] = {"kind": "csv", "csv": {"path": str(csv)}}
    path = tmp_path / "desk.yaml"
    path.write_text(yaml.safe_dump(cfg))
    (tmp_path / "risk.yaml").write_text((ROOT / "config" / "risk.yaml").read_text())
    line = _one_error_line(_run("--config", str(path), "--state", str(tmp_path / "s")))
    assert str(csv) in line and "line 3" in line


def test_desk_process_unwritable_state_dir_exits_2(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    line = _one_error_line(_run("--state", str(blocker / "state")))
    assert f"state directory {blocker / 'state'} cannot be written" in line


@pytest.mark.slow
def test_desk_process_second_desk_on_same_state_dir_exits_2(tmp_path):
    state = tmp_path / "state"
    first = subprocess.Popen(
        [sys.executable, str(SCRIPT), "--state", str(state), "--log-level", "ERROR"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(lambda: (state / "heartbeat.json").exists(), 30, "the first desk's heartbeat")
        line = _one_error_line(_run("--state", str(state)))
        assert f"another desk (pid {first.pid}) already runs on state directory {state}" in line
        assert first.poll() is None  # the first desk is untouched
    finally:
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=20) == 0


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_desk_process_read_only_state_dir_exits_2(tmp_path):
    state = tmp_path / "ro"
    state.mkdir(mode=0o500)
    line = _one_error_line(_run("--state", str(state)))
    assert "cannot be written" in line
