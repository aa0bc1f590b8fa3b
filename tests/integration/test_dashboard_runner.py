"""DashboardRunner and scripts/run_live_dashboard.py: checks, start, supervision, shutdown.

Real subprocesses, real ports, a real state directory. The tests that need the desk
process run as soon as ``scripts/run_executor.py`` can start a desk.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psutil
import pytest

from scripts._runner_checks import check_dependencies, check_no_live_desk, check_port
from scripts._runner_children import ChildProcess, heartbeat_health, streamlit_health
from scripts._runner_supervisor import RestartPolicy, SupervisedChild
from scripts.run_live_dashboard import DashboardRunner
from tests.unit.dashboard.conftest import build_snapshot, write_database, write_heartbeat, write_snapshot
from trading.errors import ConfigError
from trading.memory import StateManager
from trading.snapshot import SNAPSHOT_KEY
from trading.state_dir import StateDir

ROOT = Path(__file__).resolve().parents[2]
LAUNCHER = ROOT / "scripts" / "run_live_dashboard.py"


def _desk_available() -> bool:
    if not (ROOT / "scripts" / "run_executor.py").exists():
        return False
    try:
        return importlib.util.find_spec("trading.desk") is not None and hasattr(
            importlib.import_module("trading.desk"), "Desk"
        )
    except ImportError:
        return False


needs_desk = pytest.mark.skipif(
    not _desk_available(), reason="the desk process (scripts/run_executor.py) is not there yet"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(LAUNCHER), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        check=False,
    )


def gone(pid: int, timeout: float = 5.0) -> bool:
    """The process has exited (or is a zombie), allowing ``timeout`` for a signal to be delivered."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    """A desk's state directory (hand-built state from the dashboard fixtures; the desk itself not running)."""
    now = datetime.now(UTC)
    write_snapshot(tmp_path, build_snapshot(now))
    write_database(tmp_path, now)
    write_heartbeat(tmp_path, now.timestamp())
    return tmp_path


# --- command-line input errors: exit code 2 and one line ----------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-p", "80"], "run_live_dashboard.py: error: invalid port 80: allowed 1024-65535"),
        (["-p", "70000"], "run_live_dashboard.py: error: invalid port 70000: allowed 1024-65535"),
        (
            ["-p", "eighty"],
            "run_live_dashboard.py: error: argument -p/--port: invalid int value: 'eighty' (see --help)",
        ),
        (
            ["--no-executor", "--app", "/nonexistent/app.py"],
            "run_live_dashboard.py: error: dashboard app file not found: /nonexistent/app.py",
        ),
        (
            ["--no-executor", "-r", "0"],
            "run_live_dashboard.py: error: DashboardRunner refresh_interval=0: "
            "input should be greater than or equal to 1",
        ),
    ],
)
def test_cli_bad_input_exit_2_one_line(args: list[str], message: str) -> None:
    result = run_cli(*args)

    assert result.returncode == 2
    assert result.stderr.strip() == message
    assert result.stdout == ""


def test_cli_busy_port_exit_2_names_port(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]

        result = run_cli("-p", str(port), "--no-executor", "--state", str(tmp_path))

    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"run_live_dashboard.py: error: port {port} on 127.0.0.1 is already in use: choose another with -p"
    )


def test_cli_missing_dependency_exit_2_names_package_and_install(tmp_path: Path) -> None:
    # A real interpreter in which the plotly and streamlit_autorefresh imports fail, as if not installed.
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('plotly', 'streamlit_autorefresh'):\n"
        "            raise ModuleNotFoundError(name)\n"
        "sys.meta_path.insert(0, Block())\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "from scripts.run_live_dashboard import main\n"
        f"sys.exit(main(['--no-executor', '--state', {str(tmp_path)!r}, '-p', '{free_port()}']))\n"
    )

    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )

    assert result.returncode == 2
    line = result.stderr.strip()
    assert "\n" not in line
    assert line.startswith(
        "run_live_dashboard.py: error: missing dependencies: streamlit-autorefresh, plotly; "
    )
    assert f"install with: {sys.executable} -m pip install streamlit-autorefresh plotly" in line


def test_cli_invalid_desk_config_exit_2_names_file(tmp_path: Path) -> None:
    bad = tmp_path / "desk.yaml"
    bad.write_text("account: [not, a, mapping\n")

    result = run_cli("--no-executor", "--config", str(bad), "--state", str(tmp_path), "-p", str(free_port()))

    assert result.returncode == 2
    assert (
        result.stderr.startswith(f"run_live_dashboard.py: error: {bad}:") and "invalid YAML" in result.stderr
    )
    assert result.stderr.count("\n") == 1


def test_cli_desk_already_running_exit_2_suggests_attach(state_dir: Path) -> None:
    # state_dir's heartbeat is fresh and names this (live) test process
    result = run_cli("--state", str(state_dir), "-p", str(free_port()))

    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"run_live_dashboard.py: error: a desk (pid {os.getpid()}) is already running on {state_dir}: "
        "use --no-executor to attach to it, or --state for another directory"
    )


# --- checks -------------------------------------------------------------------------------------


def test_check_port_out_of_range_names_allowed() -> None:
    with pytest.raises(ConfigError, match=r"invalid port 1023: allowed 1024-65535"):
        check_port("127.0.0.1", 1023)


def test_check_port_bad_host_refused() -> None:
    with pytest.raises(ConfigError, match=r"invalid host '10\.255\.255\.1'"):
        check_port("10.255.255.1", free_port())


def test_check_dependencies_all_present_passes() -> None:
    check_dependencies()


def test_check_dependencies_unknown_module_named() -> None:
    with pytest.raises(
        ConfigError,
        match=r"missing dependencies: no-such-pkg; install with: .* -m pip install "
        r"no-such-pkg",
    ):
        check_dependencies({"no_such_module_xyz": "no-such-pkg", "json": "json"})


# --- supervision of one child (real processes, no sleeping for timers) ---------------------------


def _child(tmp_path: Path, code: str) -> ChildProcess:
    return ChildProcess(
        "worker",
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=dict(os.environ),
        log_path=tmp_path / "logs" / "worker.log",
    )


def test_supervised_child_exit_restarted_with_backoff_until_limit(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    child = _child(tmp_path, "import sys; sys.exit(3)")
    supervised = SupervisedChild(
        child,
        lambda: heartbeat_health(tmp_path / "hb.json", stale_after=5),
        RestartPolicy(limit=2, backoff_initial=1.0, backoff_max=10.0),
    )
    supervised.start()
    now = 1000.0

    with caplog.at_level(logging.WARNING, logger="scripts._runner_supervisor"):
        for _ in range(3):
            assert child.proc is not None
            child.proc.wait(timeout=30)
            supervised.tick(now)  # notices the exit, schedules the restart
            if supervised.failed:
                break
            supervised.tick(now + 0.5)  # before the backoff: nothing happens
            assert child.proc is None
            now += 60.0
            supervised.tick(now)  # restarts

    assert supervised.failed and supervised.restarts == 2
    assert [r.getMessage() for r in caplog.records] == [
        "worker exited with code 3: restart 1/2 in 1.0 s",
        "worker exited with code 3: restart 2/2 in 2.0 s",
        "worker exited with code 3; restart limit (2) reached: giving up",
    ]


def test_supervised_child_unhealthy_too_long_restarted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    child = _child(tmp_path, "import time; time.sleep(60)")
    write_heartbeat(tmp_path, time.time() - 100)
    supervised = SupervisedChild(
        child,
        lambda: heartbeat_health(tmp_path / "heartbeat.json", stale_after=5),
        RestartPolicy(limit=3, unhealthy_after=10),
    )
    supervised.start()
    first_pid = child.pid
    start = time.monotonic()
    try:
        supervised.tick(start + 1)
        assert supervised.restarts == 0

        with caplog.at_level(logging.WARNING, logger="scripts._runner_supervisor"):
            supervised.tick(start + 11)

        assert supervised.restarts == 1 and first_pid is not None and gone(first_pid)
        assert "worker unhealthy for 11 s: heartbeat 10" in caplog.records[0].getMessage()
    finally:
        child.stop(timeout=5)


def test_child_stop_term_then_kill_leaves_nothing(tmp_path: Path) -> None:
    # Ignores SIGTERM and has a grandchild: stop must still leave no process behind.
    code = (
        "import signal, subprocess, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); print('RE' + 'ADY', flush=True); "
        "time.sleep(60)"
    )
    child = _child(tmp_path, code)
    child.start()
    deadline = time.monotonic() + 30
    while "READY" not in (tmp_path / "logs" / "worker.log").read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    family = [child.pid, *(p.pid for p in psutil.Process(child.pid).children(recursive=True))]

    code_ = child.stop(timeout=0.5)

    assert code_ == -signal.SIGKILL
    assert len(family) == 2 and all(gone(pid) for pid in family)


# --- the whole runner against a live Streamlit (desk attached, not started) ------------------------


@pytest.fixture
def runner(state_dir: Path) -> Iterator[DashboardRunner]:
    r = DashboardRunner(
        port=free_port(),
        refresh_interval=2,
        state_dir=state_dir,
        executor=False,
        backoff_initial=0.2,
        poll_interval=0.2,
    )
    yield r
    r.stop()


@pytest.mark.slow
def test_runner_start_healthy_status_then_stop_leaves_no_process(runner: DashboardRunner) -> None:
    assert runner.start() is True
    status = runner.get_status()
    pid = status.pids["streamlit"]

    assert status.running and status.url == runner.url and status.restarts == {"streamlit": 0}
    assert streamlit_health(runner.url).ok
    assert (runner.state_dir / "run" / ".streamlit" / "config.toml").is_file()
    runner.stop()

    assert pid is not None and gone(pid)
    assert not runner.get_status().running


@pytest.mark.slow
def test_runner_streamlit_sigkilled_back_healthy_within_10s(
    runner: DashboardRunner, caplog: pytest.LogCaptureFixture
) -> None:
    assert runner.start()
    old_pid = runner.get_status().pids["streamlit"]
    assert old_pid is not None

    with caplog.at_level(logging.WARNING, logger="scripts._runner_supervisor"):
        os.kill(old_pid, signal.SIGKILL)
        killed_at = time.monotonic()
        while time.monotonic() - killed_at < 10:
            status = runner.get_status()
            if status.restarts["streamlit"] == 1 and streamlit_health(runner.url).ok:
                break
            time.sleep(0.1)

    assert status.restarts["streamlit"] == 1 and status.pids["streamlit"] != old_pid
    assert streamlit_health(runner.url).ok
    assert "streamlit exited with code -9: restart 1/5 in 0.2 s" in caplog.text


@pytest.mark.slow
def test_cli_sigterm_stops_children_exit_0(state_dir: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            str(LAUNCHER),
            "-p",
            str(port),
            "--no-executor",
            "--state",
            str(state_dir),
            "-r",
            "5",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith(f"Dashboard: http://127.0.0.1:{port}")
        children = [p.pid for p in psutil.Process(proc.pid).children(recursive=True)]

        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()

    assert code == 0
    assert children and all(gone(pid) for pid in children)


# --- with the real desk ----------------------------------------------------------------------------


@pytest.mark.slow
@needs_desk
def test_runner_desk_and_streamlit_sigkilled_each_back_within_10s(tmp_path: Path) -> None:
    runner = DashboardRunner(
        port=free_port(), refresh_interval=2, state_dir=tmp_path, backoff_initial=0.2, poll_interval=0.2
    )
    try:
        assert runner.start(timeout=60)
        for name in ("streamlit", "desk"):
            old_pid = runner.get_status().pids[name]
            assert old_pid is not None
            os.kill(old_pid, signal.SIGKILL)
            killed_at = time.monotonic()
            healthy = False
            while time.monotonic() - killed_at < 10 and not healthy:
                time.sleep(0.1)
                status = runner.get_status()
                check = streamlit_health(runner.url) if name == "streamlit" else runner.desk_health()
                healthy = status.pids[name] not in (None, old_pid) and check.ok
            assert healthy, f"{name} not healthy again within 10 s: {runner.get_status()}"
        assert runner.get_status().restarts == {"desk": 1, "streamlit": 1}
        pids = list(runner.get_status().pids.values())
    finally:
        runner.stop()
    assert all(pid is not None and gone(pid) for pid in pids)


def test_runner_bad_option_config_error() -> None:
    with pytest.raises(ConfigError, match=r"DashboardRunner restart_limit=-1: input should be greater than"):
        DashboardRunner(restart_limit=-1)
    with pytest.raises(ConfigError, match=r"DashboardRunner colour='red': extra inputs are not permitted"):
        DashboardRunner(colour="red")


def test_heartbeat_health_other_pid_unhealthy(tmp_path: Path) -> None:
    write_heartbeat(tmp_path, time.time(), pid=1234)

    result = heartbeat_health(tmp_path / "heartbeat.json", stale_after=5, pid=999_999)

    assert not result.ok and result.detail == "heartbeat is from pid 1234, not 999999"
    assert heartbeat_health(tmp_path / "heartbeat.json", stale_after=5).ok
    assert not heartbeat_health(tmp_path / "nope.json", stale_after=5).ok


def test_heartbeat_health_garbage_unhealthy_and_warned(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = StateDir(tmp_path).heartbeat
    path.write_text('{"pid": 1234}')

    with caplog.at_level(logging.WARNING, logger="trading.state_dir"):
        result = heartbeat_health(path, stale_after=5)

    assert not result.ok and result.detail == f"unreadable heartbeat {path}"
    assert [r.getMessage() for r in caplog.records] == [
        f"unreadable heartbeat file {path}: missing ts, started_at, sim_time, trading_state"
    ]
    assert (
        heartbeat_health(tmp_path / "nope.json", stale_after=5).detail
        == f"no heartbeat at {tmp_path / 'nope.json'}"
    )


def test_check_no_live_desk_garbage_or_stale_heartbeat_passes(tmp_path: Path) -> None:
    StateDir(tmp_path).heartbeat.write_text("{not json")
    check_no_live_desk(tmp_path, stale_after=5)

    write_heartbeat(tmp_path, time.time() - 100)
    check_no_live_desk(tmp_path, stale_after=5)

    write_heartbeat(tmp_path, time.time())
    with pytest.raises(ConfigError, match=rf"a desk \(pid {os.getpid()}\) is already running on "):
        check_no_live_desk(tmp_path, stale_after=5)


def test_runner_layout_is_the_state_dir_layout(tmp_path: Path) -> None:
    runner = DashboardRunner(port=free_port(), state_dir=tmp_path, executor=False)

    children = runner._build_children()

    assert runner.layout == StateDir(tmp_path.resolve())
    assert runner.run_dir == runner.layout.run_dir
    assert children["streamlit"].child.log_path == runner.layout.log_file("streamlit")


@pytest.mark.slow
@needs_desk
def test_runner_new_account_archives_once_and_a_restarted_desk_keeps_the_new_books(tmp_path: Path) -> None:
    """A state file without its database is refused (exit 2, naming --new-account); with
    ``new_account`` the old files move to an archive folder, the desk starts a fresh account, and
    the desk restarted after a SIGKILL keeps that account (the archive happens once, at start)."""
    layout = StateDir(tmp_path)
    layout.root.mkdir(exist_ok=True)
    with StateManager(layout.state_file) as state:
        state.set(SNAPSHOT_KEY, {"published": "by an earlier desk"})
    runner = DashboardRunner(
        port=free_port(),
        refresh_interval=2,
        state_dir=tmp_path,
        backoff_initial=0.2,
        poll_interval=0.2,
        new_account=True,
    )
    try:
        assert runner.start(timeout=60)
        (archive,) = [p for p in tmp_path.iterdir() if p.name.startswith("archive-")]
        assert (archive / layout.state_file.name).is_file() and layout.database.is_file()
        old_pid = runner.get_status().pids["desk"]
        assert old_pid is not None
        os.kill(old_pid, signal.SIGKILL)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            time.sleep(0.1)
            status = runner.get_status()
            if status.pids["desk"] not in (None, old_pid) and runner.desk_health().ok:
                break
        assert runner.get_status().restarts["desk"] == 1 and runner.desk_health().ok
    finally:
        runner.stop()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("archive-")] == [archive.name]
    assert layout.database.is_file()
