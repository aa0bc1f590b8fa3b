"""Real desk processes for the integration tests: config files, a start, waits, the journal's
rows read with our own SQL (never through the project's repositories)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import pytest
import yaml

from trading.memory import StateManager
from trading.snapshot import SNAPSHOT_KEY, Snapshot

ROOT = Path(__file__).resolve().parents[2]
EXECUTOR = ROOT / "scripts" / "run_executor.py"


def write_configs(
    folder: Path,
    *,
    desk: dict[str, Any] | None = None,
    risk: dict[str, Any] | None = None,
    rules: dict[str, dict[str, Any]] | None = None,
) -> Path:
    """The shipped config/desk.yaml and config/risk.yaml in ``folder``, with top-level desk and
    risk overrides and per-rule field overrides; returns the desk config's path."""
    folder.mkdir(parents=True, exist_ok=True)
    desk_cfg = yaml.safe_load((ROOT / "config" / "desk.yaml").read_text())
    risk_cfg = yaml.safe_load((ROOT / "config" / "risk.yaml").read_text())
    for key, value in (desk or {}).items():
        desk_cfg[key] = value
    for key, value in (risk or {}).items():
        risk_cfg[key] = value
    for rule, fields in (rules or {}).items():
        risk_cfg["rules"].setdefault(rule, {}).update(fields)
    (folder / "desk.yaml").write_text(yaml.safe_dump(desk_cfg))
    (folder / "risk.yaml").write_text(yaml.safe_dump(risk_cfg))
    return folder / "desk.yaml"


def start_desk(config: Path, state: Path, stderr: IO[str], *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            str(EXECUTOR),
            "--config",
            str(config),
            "--state",
            str(state),
            "--log-level",
            "WARNING",
            *extra,
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=stderr,
        text=True,
    )


def start_logged_desk(
    folder: Path, config: Path, env: Mapping[str, str], *extra: str
) -> tuple[subprocess.Popen[bytes], Path]:
    """The desk on ``folder/state`` with ``env`` added to ours (a broker's credentials), its
    stdout and stderr in ``folder/desk.log``; the process and the log's path."""
    log = folder / "desk.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                str(EXECUTOR),
                "--config",
                str(config),
                "--state",
                str(folder / "state"),
                *extra,
            ],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return proc, log


def read_snapshot(state: Path) -> Snapshot | None:
    """The dashboard's snapshot in ``state``'s state file, as a second process reads it."""
    path = state / "state.pkl"
    if not path.exists():
        return None
    reader = StateManager(path, load=False)
    try:
        reader.load()
        return reader.get(SNAPSHOT_KEY)
    finally:
        reader.close()


def snapshot_positions(state: Path) -> int:
    snap = read_snapshot(state)
    return 0 if snap is None else len(snap.positions)


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, *, every: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def heartbeat(state: Path) -> dict[str, Any] | None:
    try:
        return json.loads((state / "heartbeat.json").read_text())
    except (OSError, ValueError):
        return None


def stop(proc: subprocess.Popen[str], *, timeout: float = 30) -> int:
    """SIGKILL if still running (a test that failed midway), and reap."""
    if proc.poll() is None:
        proc.kill()
    return proc.wait(timeout=timeout)


@contextmanager
def rows(database: Path) -> Iterator[sqlite3.Connection]:
    """A read-only connection on the journal; one read transaction per ``execute``."""
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=10)
    try:
        yield conn
    finally:
        conn.close()


@contextmanager
def small_disk(mount: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` at ``mount`` (root only; the test is skipped otherwise)."""
    mount.mkdir(parents=True, exist_ok=True)
    if (
        os.geteuid() != 0
        or subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount)],
            capture_output=True,
            check=False,
        ).returncode
    ):
        pytest.skip("needs root to mount a small tmpfs")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)
