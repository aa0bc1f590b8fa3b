"""Bad input to either script: exit code 2, one line naming what is wrong, nothing started.

The launcher checks both config files and the state directory through the desk's own
code before it starts anything, so for the same bad input it says what the desk says.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from filelock import FileLock

from scripts._arg_types import positive_seconds
from tests.integration._launcher import EXECUTOR, LAUNCHER, ROOT, error_line, free_port, run_script
from trading.memory import StateManager
from trading.snapshot import SNAPSHOT_KEY
from trading.state_dir import StateDir

LAUNCHER_PROG = "run_live_dashboard.py"
EXECUTOR_PROG = "run_executor.py"


def _launch(*args: str) -> subprocess.CompletedProcess[str]:
    return run_script(LAUNCHER, "-p", str(free_port()), *args)


def _bad_risk_file(tmp_path: Path) -> Path:
    risk = yaml.safe_load((ROOT / "config" / "risk.yaml").read_text())
    risk["rules"]["daily_realized_loss"]["limit"] = -5
    path = tmp_path / "bad-risk.yaml"
    path.write_text(yaml.safe_dump(risk))
    return path


def _broken_desk_config(tmp_path: Path) -> Path:
    config = yaml.safe_load((ROOT / "config" / "desk.yaml").read_text())
    config["clock"]["speed"] = "fast"
    path = tmp_path / "desk.yaml"
    path.write_text(yaml.safe_dump(config))
    (tmp_path / "risk.yaml").write_text((ROOT / "config" / "risk.yaml").read_text())
    return path


# --- flags ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--state", ""], "argument --state: must not be empty (a directory such as data/)"),
        (["--duration", "nan"], "argument --duration: must be a finite number of seconds > 0, got 'nan'"),
        (["--duration", "inf"], "argument --duration: must be a finite number of seconds > 0, got 'inf'"),
        (["--duration=-3"], "argument --duration: must be a finite number of seconds > 0, got '-3'"),
        (["--duration", "0"], "argument --duration: must be a finite number of seconds > 0, got '0'"),
        (["--duration", "soon"], "argument --duration: not a number: 'soon'"),
        (["--log-level", "LOUD"], "argument --log-level: invalid choice: 'LOUD' (choose from 'DEBUG', 'INFO', 'WARNING', 'ERROR')"),
    ],
)  # fmt: skip
def test_executor_bad_flag_exit_2_one_line(args: list[str], expected: str) -> None:
    assert error_line(run_script(EXECUTOR, *args), EXECUTOR_PROG) == expected


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--state", ""], "argument --state: must not be empty (a directory such as data/) (see --help)"),
        (["-p", "0"], "invalid port 0: allowed 1024-65535"),
        (["-p", "-1"], "invalid port -1: allowed 1024-65535"),
        (["-p", "65536"], "invalid port 65536: allowed 1024-65535"),
        (["-p", "nan"], "argument -p/--port: invalid int value: 'nan' (see --help)"),
        (["-r", "nan"], "argument -r/--refresh: invalid int value: 'nan' (see --help)"),
        (["-r", "1.5"], "argument -r/--refresh: invalid int value: '1.5' (see --help)"),
        (["-r", "-2"], "DashboardRunner refresh_interval=-2: input should be greater than or equal to 1"),
        (["-r", "86400"], "DashboardRunner refresh_interval=86400: input should be less than or equal to 3600"),
        (["--restart-limit", "-1"], "DashboardRunner restart_limit=-1: input should be greater than or equal to 0"),
        (["-H", ""], "DashboardRunner host='': string should have at least 1 character"),
    ],
)  # fmt: skip
def test_launcher_bad_flag_exit_2_one_line(args: list[str], expected: str) -> None:
    result = run_script(LAUNCHER, *args) if args[0] == "-p" else _launch(*args)

    assert error_line(result, LAUNCHER_PROG) == expected


@pytest.mark.parametrize("script", [EXECUTOR, LAUNCHER])
def test_scripts_state_path_is_a_file_exit_2_one_line(script: Path, tmp_path: Path) -> None:
    file = tmp_path / "file"
    file.write_text("not a directory")
    prog = script.name
    suffix = " (see --help)" if script == LAUNCHER else ""

    line = error_line(run_script(script, "--state", str(file), "-p", str(free_port()))
                      if script == LAUNCHER else run_script(script, "--state", str(file)), prog)  # fmt: skip

    assert line == f"argument --state: {file} exists and is not a directory{suffix}"


@pytest.mark.slow  # three scripts start, about a second each
def test_scripts_unwritable_state_dir_same_line_no_traceback(tmp_path: Path) -> None:
    desk = error_line(run_script(EXECUTOR, "--state", "/proc/nope"), EXECUTOR_PROG)
    check = error_line(run_script(EXECUTOR, "--check", "--state", "/proc/nope"), EXECUTOR_PROG)
    launcher = error_line(_launch("--state", "/proc/nope"), LAUNCHER_PROG)

    assert (
        desk == check == launcher == "state directory /proc/nope cannot be written: No such file or directory"
    )


# --- config files: the launcher says what the desk says, before starting anything -------------


@pytest.mark.slow  # three scripts start, about a second each
def test_scripts_invalid_risk_config_same_line_naming_file_and_field(tmp_path: Path) -> None:
    bad = _bad_risk_file(tmp_path)
    state = tmp_path / "state"

    desk = error_line(run_script(EXECUTOR, "--risk-config", str(bad), "--state", str(state)), EXECUTOR_PROG)
    check = error_line(
        run_script(EXECUTOR, "--check", "--risk-config", str(bad), "--state", str(state)), EXECUTOR_PROG
    )
    launcher = error_line(_launch("--risk-config", str(bad), "--state", str(state)), LAUNCHER_PROG)

    assert desk == check == launcher
    assert (
        launcher == f"{bad}: rule 'daily_realized_loss', field 'limit': bad value -5: allowed a number > 0.0"
    )
    assert not state.exists()  # nothing was started, not even the state directory made


@pytest.mark.slow  # three scripts start, about a second each
def test_scripts_broken_desk_config_same_line_naming_file_and_field(tmp_path: Path) -> None:
    bad = _broken_desk_config(tmp_path)
    state = tmp_path / "state"

    desk = error_line(run_script(EXECUTOR, "--config", str(bad), "--state", str(state)), EXECUTOR_PROG)
    check = error_line(
        run_script(EXECUTOR, "--check", "--config", str(bad), "--state", str(state)), EXECUTOR_PROG
    )
    launcher = error_line(_launch("--config", str(bad), "--state", str(state)), LAUNCHER_PROG)

    assert desk == check == launcher
    assert launcher.startswith(f"{bad}: field 'clock.speed': bad value 'fast'")
    assert not state.exists()


def test_launcher_desk_config_names_invalid_risk_file_exit_2(tmp_path: Path) -> None:
    config = yaml.safe_load((ROOT / "config" / "desk.yaml").read_text())
    config["risk_config"] = "bad-risk.yaml"
    desk_yaml = tmp_path / "desk.yaml"
    desk_yaml.write_text(yaml.safe_dump(config))
    bad = _bad_risk_file(tmp_path)

    line = error_line(_launch("--config", str(desk_yaml), "--state", str(tmp_path / "state")), LAUNCHER_PROG)

    assert line == f"{bad}: rule 'daily_realized_loss', field 'limit': bad value -5: allowed a number > 0.0"


def test_scripts_desk_lock_held_same_line_exit_2(tmp_path: Path) -> None:
    # A desk holding the lock with no (fresh) heartbeat: a hung desk, or one still starting.
    state = tmp_path / "state"
    state.mkdir()
    with FileLock(str(StateDir(state).lock_file), timeout=0):
        check = error_line(run_script(EXECUTOR, "--check", "--state", str(state)), EXECUTOR_PROG)
        launcher = error_line(_launch("--state", str(state)), LAUNCHER_PROG)

    assert check == launcher
    assert launcher == f"another desk already runs on state directory {state}: one desk per state directory"
    assert not (state / "logs").exists()


@pytest.mark.slow  # three scripts start, about a second each
def test_scripts_state_file_without_database_same_line_exit_2(tmp_path: Path) -> None:
    # A state file that holds a snapshot, and no database: the books are gone, a fresh account must be asked for.
    layout = StateDir(tmp_path / "state")
    layout.root.mkdir()
    with StateManager(layout.state_file) as state:
        state.set(SNAPSHOT_KEY, {"published": "by an earlier desk"})

    desk = error_line(run_script(EXECUTOR, "--state", str(layout.root)), EXECUTOR_PROG)
    check = error_line(run_script(EXECUTOR, "--check", "--state", str(layout.root)), EXECUTOR_PROG)
    launcher = error_line(_launch("--state", str(layout.root)), LAUNCHER_PROG)

    assert desk == check == launcher
    assert launcher.startswith(f"{layout.database} is missing while the state file {layout.state_file} holds")
    assert f"run scripts/run_executor.py --new-account --state {layout.root}" in launcher
    assert not layout.database.exists() and not (layout.root / "logs").exists()


def test_executor_check_passes_starts_nothing(tmp_path: Path) -> None:
    state = tmp_path / "state"

    result = run_script(EXECUTOR, "--check", "--state", str(state))

    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        f"run_executor.py: ok: desk config {ROOT / 'config' / 'desk.yaml'}, "
        f"risk config {ROOT / 'config' / 'risk.yaml'}, state directory {state}\n"
    )
    assert {p.name for p in state.iterdir()} <= {"desk.lock"}  # no database, heartbeat or state file


def test_make_run_broken_desk_config_exit_2_with_the_line(tmp_path: Path) -> None:
    # A copy of the scripts and configs (the code it runs is linked): `make run` from there.
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    for name in ("scripts", "config"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("trading", "dashboard"):
        (tmp_path / name).symlink_to(ROOT / name)
    for name in ("Makefile", "requirements.txt", "requirements-dev.txt"):
        shutil.copy(ROOT / name, tmp_path / name)
    config = tmp_path / "config" / "desk.yaml"
    broken = yaml.safe_load(config.read_text())
    broken["clock"]["speed"] = "fast"
    config.write_text(yaml.safe_dump(broken))
    venv = Path(sys.executable).parent.parent
    # As a user types it at a shell: not a sub-make of `make test` (which would print "make[1]:").
    env = {k: v for k, v in os.environ.items() if k not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS")}

    result = subprocess.run(
        ["make", "--no-print-directory", "-o", f"{venv}/.runtime", "run", f"VENV={venv}", f"PORT={free_port()}"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False, env=env,
    )  # fmt: skip

    lines = result.stderr.splitlines()
    assert result.returncode == 2, result.stderr
    assert lines[0].startswith(f"{LAUNCHER_PROG}: error: {config}: field 'clock.speed': bad value 'fast'")
    assert lines[1:] == [line for line in lines[1:] if line.startswith("make: *** ")]  # make's own note


@pytest.mark.parametrize("text", ["nan", "NaN", "inf", "-inf", "1e999", "0", "-1"])
def test_positive_seconds_non_finite_or_not_positive_refused(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="must be a finite number of seconds > 0"):
        positive_seconds(text)


def test_positive_seconds_finite_accepted() -> None:
    assert positive_seconds("2.5") == 2.5 and positive_seconds("1e-3") == 0.001
