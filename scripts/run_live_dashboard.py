"""Start the paper-trading desk and the live dashboard, and keep both healthy.

    python scripts/run_live_dashboard.py -p 8080 -r 30

Checks the port, the dependencies, the app file and the configs first (any failure: exit
code 2 and one line on stderr), starts the desk (unless ``--no-executor``) and Streamlit
as child processes, waits until both are healthy, prints the URL, then supervises them:
a child that exits or stays unhealthy is restarted with backoff, up to a limit.
SIGINT/SIGTERM stop both (SIGTERM, then SIGKILL after a timeout).

Programmatic use::

    from scripts.run_live_dashboard import DashboardRunner
    runner = DashboardRunner(port=8080, host="127.0.0.1", refresh_interval=30)
    if runner.start():
        print(runner.get_status().url)
    runner.stop()
"""

from __future__ import annotations

import argparse
import atexit
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:  # run as a script: make `trading` and `scripts` importable
    sys.path.insert(0, str(REPO_ROOT))

from pydantic import ValidationError  # noqa: E402

from scripts._runner_checks import (  # noqa: E402
    check_app_file,
    check_dependencies,
    check_desk_config,
    check_no_live_desk,
    check_port,
    write_streamlit_config,
)
from scripts._runner_children import ChildProcess, HealthResult, heartbeat_health, streamlit_health  # noqa: E402
from scripts._runner_config import RunnerConfig, RunnerStatus  # noqa: E402
from scripts._runner_supervisor import RestartPolicy, SupervisedChild  # noqa: E402
from trading.errors import ConfigError  # noqa: E402
from trading.state_dir import StateDir  # noqa: E402

__all__ = ["DashboardRunner", "RunnerConfig", "RunnerStatus", "main"]

logger = logging.getLogger("scripts.run_live_dashboard")


class DashboardRunner:
    """Checks, starts, health-checks and restarts the desk and the Streamlit dashboard."""

    def __init__(self, port: int = 8501, host: str = "127.0.0.1", refresh_interval: int = 30, **options: Any):
        try:
            self.config = RunnerConfig(port=port, host=host, refresh_interval=refresh_interval, **options)
        except ValidationError as exc:
            err = exc.errors(include_url=False)[0]
            name = ".".join(str(p) for p in err["loc"])
            raise ConfigError(
                f"DashboardRunner {name}={err.get('input')!r}: {str(err['msg']).lower()}",
                field=name,
                value=err.get("input"),
                allowed=str(err["msg"]),
            ) from None
        cfg = self.config
        self.state_dir = cfg.state_dir.resolve()
        self.layout = StateDir(self.state_dir)
        self.run_dir = self.layout.run_dir
        self.url = f"http://{cfg.host}:{cfg.port}"
        self._children: dict[str, SupervisedChild] = {}
        self._lock = threading.RLock()
        self._stop_event = threading.Event()
        self._thread: threading.Thread | None = None
        self._started_at: float | None = None
        self._atexit_registered = False

    # --- checks ------------------------------------------------------------------

    def check(self) -> None:
        """Every pre-flight check; raises ``ConfigError`` with one clear line."""
        cfg = self.config
        check_port(cfg.host, cfg.port)
        check_dependencies(cfg.required_modules, python=cfg.python)
        check_app_file(cfg.app_path)
        if cfg.config is not None:
            check_desk_config(cfg.config, field="config")
        if cfg.risk_config is not None:
            check_desk_config(cfg.risk_config, field="risk-config")
        if cfg.executor and not cfg.executor_script.is_file():
            raise ConfigError(
                f"desk script not found: {cfg.executor_script} (use --no-executor to attach to a "
                "running desk)",
                path=cfg.executor_script,
                field="executor",
            )
        if self.state_dir.exists() and not self.state_dir.is_dir():
            raise ConfigError(
                f"--state {self.state_dir} is not a directory", path=self.state_dir, field="state"
            )
        if cfg.executor:
            check_no_live_desk(self.state_dir, stale_after=cfg.stale_after)

    # --- children ----------------------------------------------------------------

    def _child_env(self) -> dict[str, str]:
        env = dict(os.environ)
        path = env.get("PYTHONPATH")
        env["PYTHONPATH"] = str(REPO_ROOT) + (os.pathsep + path if path else "")
        env["DESK_STATE_DIR"] = str(self.state_dir)
        env["DASHBOARD_REFRESH_SECONDS"] = str(self.config.refresh_interval)
        env["DASHBOARD_STALE_AFTER_SECONDS"] = str(self.config.stale_after)
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def _build_children(self) -> dict[str, SupervisedChild]:
        cfg = self.config
        policy = RestartPolicy(
            limit=cfg.restart_limit,
            backoff_initial=cfg.backoff_initial,
            backoff_max=cfg.backoff_max,
            unhealthy_after=cfg.unhealthy_after,
        )
        env = self._child_env()
        children: dict[str, SupervisedChild] = {}
        if cfg.executor:
            argv = [
                cfg.python,
                str(cfg.executor_script),
                "--state",
                str(self.state_dir),
                "--log-level",
                "DEBUG" if cfg.debug else "INFO",
            ]
            if cfg.config is not None:
                argv += ["--config", str(cfg.config.resolve())]
            if cfg.risk_config is not None:
                argv += ["--risk-config", str(cfg.risk_config.resolve())]
            desk = ChildProcess("desk", argv, cwd=REPO_ROOT, env=env, log_path=self.layout.log_file("desk"))
            children["desk"] = SupervisedChild(
                desk,
                lambda: heartbeat_health(self.layout.heartbeat, stale_after=cfg.stale_after, pid=desk.pid),
                policy,
            )
        argv = [
            cfg.python,
            "-m",
            "streamlit",
            "run",
            str(cfg.app_path.resolve()),
            "--server.port",
            str(cfg.port),
            "--server.address",
            cfg.host,
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
            "--server.fileWatcherType",
            "none",
            "--logger.level",
            "debug" if cfg.debug else "info",
        ]
        streamlit = ChildProcess(
            "streamlit", argv, cwd=self.run_dir, env=env, log_path=self.layout.log_file("streamlit")
        )
        children["streamlit"] = SupervisedChild(streamlit, lambda: streamlit_health(self.url), policy)
        return children

    def desk_health(self) -> HealthResult:
        """The desk's heartbeat, whether or not this runner started the desk."""
        desk = self._children.get("desk")
        return heartbeat_health(
            self.layout.heartbeat,
            stale_after=self.config.stale_after,
            pid=desk.child.pid if desk else None,
        )

    # --- lifecycle ---------------------------------------------------------------

    def start(self, timeout: float | None = None) -> bool:
        """Check, start both children, wait until healthy, then supervise. True when healthy in time.

        Raises ``ConfigError`` when a pre-flight check fails (nothing is started then).
        """
        with self._lock:
            if self._thread is not None:
                raise RuntimeError("DashboardRunner is already started")
            self.check()
            self.state_dir.mkdir(parents=True, exist_ok=True)
            write_streamlit_config(
                self.run_dir, host=self.config.host, port=self.config.port, debug=self.config.debug
            )
            self._stop_event.clear()
            self._children = self._build_children()
            if not self._atexit_registered:
                atexit.register(self.stop)
                self._atexit_registered = True
            self._started_at = time.monotonic()
            for child in self._children.values():
                child.start()
        if not self._wait_healthy(timeout or self.config.startup_timeout):
            self.stop()
            return False
        if not self.config.executor:
            beat = self.desk_health()
            if not beat.ok:
                logger.warning(
                    "no live desk on %s (%s): the dashboard will say so", self.state_dir, beat.detail
                )
        self._thread = threading.Thread(target=self._supervise, name="dashboard-supervisor", daemon=True)
        self._thread.start()
        logger.info("dashboard ready at %s (state %s)", self.url, self.state_dir)
        return True

    def _wait_healthy(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        pending = dict(self._children)
        while pending and time.monotonic() < deadline and not self._stop_event.is_set():
            for name, child in list(pending.items()):
                code = child.child.poll()
                if code is not None:
                    logger.error(
                        "%s exited with code %s during start-up; see %s", name, code, child.child.log_path
                    )
                    return False
                result = child.check()
                if result.ok:
                    logger.info("%s healthy (pid %s)", name, child.child.pid)
                    del pending[name]
            if pending:
                self._stop_event.wait(0.2)
        for name, child in pending.items():
            detail = child.last_health.detail if child.last_health else "never checked"
            logger.error(
                "%s not healthy within %.0f s: %s; see %s", name, timeout, detail, child.child.log_path
            )
        return not pending

    def _supervise(self) -> None:
        while not self._stop_event.wait(self.config.poll_interval):
            with self._lock:
                for child in self._children.values():
                    child.tick(time.monotonic())
                if any(child.failed for child in self._children.values()):
                    self._stop_event.set()
        logger.debug("supervisor stopped")

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the runner stops (signal, ``stop()`` or a child past its restart limit)."""
        return self._stop_event.wait(timeout)

    def stop(self) -> None:
        """Stop Streamlit, then the desk: SIGTERM, then SIGKILL after ``stop_timeout``. Idempotent."""
        self._stop_event.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=self.config.poll_interval + 5.0)
        with self._lock:
            for name in ("streamlit", "desk"):
                child = self._children.get(name)
                if child is not None and child.child.proc is not None:
                    code = child.child.stop(timeout=self.config.stop_timeout)
                    logger.info("%s stopped (exit code %s)", name, code)
            self._started_at = None

    def get_status(self) -> RunnerStatus:
        with self._lock:
            children = self._children
            return RunnerStatus(
                running=self._started_at is not None and not self._stop_event.is_set(),
                pids={name: c.child.pid for name, c in children.items()},
                port=self.config.port,
                url=self.url,
                restarts={name: c.restarts for name, c in children.items()},
                uptime=0.0 if self._started_at is None else time.monotonic() - self._started_at,
                health={name: c.last_health for name, c in children.items()},
                failed=tuple(name for name, c in children.items() if c.failed),
            )

    statistics = get_status

    def __enter__(self) -> DashboardRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        status = self.get_status()
        return f"DashboardRunner(url={self.url!r}, running={status.running}, pids={status.pids})"


# --- command line ---------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]  # one line, exit 2
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="run_live_dashboard.py", description="Start the paper desk and the live dashboard.")
    p.add_argument("-p", "--port", type=int, default=8501, help="dashboard port, 1024-65535 (default 8501)")
    p.add_argument("-H", "--host", default="127.0.0.1", help="address to serve on (default 127.0.0.1)")
    p.add_argument("-r", "--refresh", type=int, default=30, help="auto-refresh seconds (default 30)")
    p.add_argument("--debug", action="store_true", help="debug logging for the launcher and both children")
    p.add_argument("--config", type=Path, help="desk config (default: the desk's own, config/desk.yaml)")
    p.add_argument("--risk-config", type=Path, help="risk config passed to the desk")
    p.add_argument("--state", type=Path, default=REPO_ROOT / "data", help="state directory (default data/)")
    p.add_argument("--no-executor", action="store_true", help="attach to a desk already running on --state")
    p.add_argument("--app", type=Path, default=REPO_ROOT / "dashboard" / "app.py", help=argparse.SUPPRESS)
    p.add_argument("--restart-limit", type=int, default=5, help="consecutive restarts before giving up")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    prog = "run_live_dashboard.py"
    try:
        runner = DashboardRunner(
            port=args.port,
            host=args.host,
            refresh_interval=args.refresh,
            debug=args.debug,
            config=args.config,
            risk_config=args.risk_config,
            state_dir=args.state,
            executor=not args.no_executor,
            app_path=args.app,
            restart_limit=args.restart_limit,
        )
        runner.check()
    except ConfigError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2

    def _on_signal(signum: int, _frame: object) -> None:
        logger.info("received %s: stopping", signal.Signals(signum).name)
        runner._stop_event.set()

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    try:
        if not runner.start():
            print(
                f"{prog}: error: the dashboard did not become healthy; logs in {runner.layout.logs}",
                file=sys.stderr,
            )
            return 1
        print(f"Dashboard: {runner.url}  (state {runner.state_dir}; Ctrl-C stops)", flush=True)
        while not runner.wait(1.0):
            pass
        failed = runner.get_status().failed
    except ConfigError as exc:  # the port was taken between the check and the start
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    finally:
        runner.stop()
    if failed:
        print(
            f"{prog}: error: {', '.join(failed)} kept failing; gave up (logs in {runner.layout.logs})",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
