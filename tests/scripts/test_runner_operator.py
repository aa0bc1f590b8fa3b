"""The launcher's --operator NAME reaches Streamlit as DASHBOARD_OPERATOR (dashboard.identity reads it)
and the desk as --operator; its --users FILE reaches the desk as --users (trading.desk.operators)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from scripts.run_live_dashboard import REPO_ROOT, DashboardRunner, _parser
from tests.unit.dashboard.conftest import write_users
from trading.errors import ConfigError

EXECUTOR = REPO_ROOT / "scripts" / "run_executor.py"


def test_runner_operator_passed_to_the_children(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DASHBOARD_OPERATOR", "someone-else")

    named = DashboardRunner(operator=" alice ")._child_env()
    unnamed = DashboardRunner()._child_env()

    assert named["DASHBOARD_OPERATOR"] == "alice"
    assert "DASHBOARD_OPERATOR" not in unnamed  # the dashboard then names the OS user


@pytest.mark.parametrize("bad", ["", "   ", "a\x07b", "x" * 65])
def test_runner_operator_empty_or_unprintable_refused(bad: str) -> None:
    with pytest.raises(ConfigError, match=r"--operator .*: a name of 1-64 printable characters"):
        DashboardRunner(operator=bad)


def test_runner_operator_flag_parsed() -> None:
    assert _parser().parse_args(["--operator", "alice"]).operator == "alice"
    assert _parser().parse_args([]).operator is None


def _desk_argv(runner: DashboardRunner) -> list[str]:
    return runner._build_children()["desk"].child.argv


def test_runner_operator_and_users_file_passed_to_the_desk(tmp_path: Path) -> None:
    users = write_users(tmp_path / "users.yaml")

    named = _desk_argv(DashboardRunner(operator="alice", state_dir=tmp_path / "a"))
    unnamed = _desk_argv(DashboardRunner(state_dir=tmp_path / "b"))
    login = _desk_argv(DashboardRunner(users_file=users, state_dir=tmp_path / "c"))

    assert named[-2:] == ["--operator", "alice"]
    assert "--operator" not in unnamed and "--users" not in unnamed  # the desk then names the OS user
    assert login[-2:] == ["--users", str(users.resolve())]


def test_runner_desk_refuses_unreadable_users_file_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "users.yaml"
    bad.write_text("credentials: [\n")

    done = subprocess.run(
        [sys.executable, str(EXECUTOR), "--users", str(bad), "--state", str(tmp_path / "state")],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 2
    assert done.stderr.startswith(f"run_executor.py: error: {bad}")
    assert len(done.stderr.strip().splitlines()) == 1


def test_runner_desk_users_and_operator_are_exclusive(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(EXECUTOR), "--users", "u.yaml", "--operator", "alice"],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 2
    assert "argument --operator: not allowed with argument --users" in done.stderr
