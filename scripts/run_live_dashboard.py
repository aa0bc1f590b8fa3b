"""Start the paper-trading desk and the live dashboard, and keep both healthy.

    python scripts/run_live_dashboard.py -p 8080 -r 30 [--operator NAME]
    python scripts/run_live_dashboard.py -H 0.0.0.0 -p 8443 --users FILE --ssl-cert C --ssl-key K

Who may press the buttons: without ``--users`` there is no login and the local operator
(``--operator NAME``, default the OS user running the dashboard) is recorded with every
command; that is allowed on a loopback address only. ``--users FILE`` (made with
``scripts/desk_users.py``) requires every visitor to log in, as a viewer (read-only) or an
operator (the controls); any other ``--host`` without it is refused (exit 2). The desk gets
the same file (``--users``), or the local operator (``--operator``), and runs only commands of
an operator (``trading.desk.operators``). ``--ssl-cert``/``--ssl-key`` serve https
(Streamlit's own TLS); a reverse proxy in front is the other way (docs/OPERATIONS.md). Streamlit runs hardened
(``_runner_streamlit``: XSRF protection on, no file watching, no developer menu).

Checks everything first, before anything starts (any failure: exit code 2 and one line
on stderr): a login for any address but loopback, dependencies, the users file, the TLS
certificate and key, the app file, both config files and the state directory through the
desk's own checks (``trading.desk.preflight.check_desk``: the desk's very words), the port,
and that no other desk runs on the state directory. It then starts the desk (unless
``--no-executor``) and Streamlit as child processes, waits until both are healthy, prints
the URL, and supervises them: a child that exits or stays unhealthy is restarted with
backoff, up to a limit, from its first second on.

No orphans: the children get a parent-death signal (``_runner_deathsig``: SIGTERM for
the desk, so it stops cleanly; SIGKILL for Streamlit, which has nothing to save), so
SIGKILL of the launcher takes them down with it. One supervisor thread starts, restarts
and stops them all, because that signal follows the thread that forked. The launcher
records itself and its children in ``<state>/run/launcher.json``; a new launcher that
finds children left by a dead one stops them and proceeds (``_runner_record``), while a
desk started by hand, or by a launcher that still runs, is refused.

SIGINT/SIGTERM stop both children (Streamlit first; SIGTERM, then SIGKILL after a
timeout), logged once with the sender (``_runner_signals``).

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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:  # run as a script: make `trading` and `scripts` importable
    sys.path.insert(0, str(REPO_ROOT))

from pydantic import ValidationError  # noqa: E402

from scripts._arg_types import state_path  # noqa: E402
from scripts._runner_checks import (  # noqa: E402
    check_app_file,
    check_dependencies,
    check_desk_files,
    check_exposure,
    check_no_live_desk,
    check_port,
    check_port_range,
    check_tls,
    check_users,
)
from scripts._runner_children import ChildProcess, HealthResult, heartbeat_health, streamlit_health  # noqa: E402
from scripts._runner_config import RunnerConfig, RunnerStatus  # noqa: E402
from scripts._runner_record import LauncherRecord, ProcessId, stop_left_behind  # noqa: E402
from scripts._runner_signals import StopSignals  # noqa: E402
from scripts._runner_streamlit import streamlit_argv, streamlit_options, write_streamlit_config  # noqa: E402
from scripts._runner_supervisor import RestartPolicy, SupervisedChild  # noqa: E402
from trading.errors import ConfigError, TradingError  # noqa: E402
from trading.state_dir import StateDir  # noqa: E402

__all__ = ["DashboardRunner", "RunnerConfig", "RunnerStatus", "main"]

logger = logging.getLogger("scripts.run_live_dashboard")

ENV_OPERATOR = "DASHBOARD_OPERATOR"  # read by dashboard.settings (the dashboard's operator name)
ENV_USERS_FILE = "DASHBOARD_USERS_FILE"  # read by dashboard.settings: a login is required

DEFAULT_DESK_CONFIG = REPO_ROOT / "config" / "desk.yaml"  # the desk's own default (run_executor.py)
# The parent-death signal of each child: the desk stops cleanly on SIGTERM (final snapshot,
# lock released); Streamlit has nothing to save and must free its port at once.
DEATH_SIGNALS = {"desk": signal.SIGTERM, "streamlit": signal.SIGKILL}


class DashboardRunner:
    """Checks, starts, health-checks and restarts the desk and the Streamlit dashboard."""

    def __init__(
        self,
        port: int = 8501,
        host: str = "127.0.0.1",
        refresh_interval: int = 30,
        *,
        operator: str | None = None,
        **options: Any,
    ):
        self.operator = _operator_name(operator)
        if operator is not None and options.get("users_file") is not None:
            raise ConfigError(
                "--operator names the local operator when there is no login; with --users every "
                "visitor logs in and is recorded by their login name: drop --operator",
                field="operator",
                value=operator,
            )
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
        self.users_file = None if cfg.users_file is None else cfg.users_file.resolve()
        self.tls = cfg.ssl_cert is not None and cfg.ssl_key is not None
        self.url = f"{'https' if self.tls else 'http'}://{cfg.host}:{cfg.port}"
        self._children: dict[str, SupervisedChild] = {}
        self._lock = threading.RLock()
        self._stop_event = threading.Event()
        self._ready = threading.Event()
        self._healthy_at_start = False
        self._problem = ""
        self._thread: threading.Thread | None = None
        self._started_at: float | None = None
        self._record: LauncherRecord | None = None
        self._atexit_registered = False

    # --- checks ------------------------------------------------------------------

    def check(self) -> None:
        """Every pre-flight check; raises ``TradingError`` (mostly ``ConfigError``) with one line.

        Starts nothing. It does stop children that a dead launcher left running on the state
        directory (see ``_runner_record``), once the configs are known to be good.
        """
        cfg = self.config
        check_port_range(cfg.port)
        check_exposure(cfg.host, self.users_file)
        check_dependencies(cfg.required_modules, python=cfg.python)
        if self.users_file is not None:
            check_users(self.users_file)
        check_tls(cfg.ssl_cert, cfg.ssl_key)
        check_app_file(cfg.app_path)
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
        desk_config = self._desk_config_path()
        risk_config = cfg.risk_config.resolve() if cfg.risk_config is not None else None
        # configs, CSV and a writable state directory (the launcher writes logs/ and run/ there too);
        # the books pair last: a desk still running on the directory is the first thing to say
        check_desk_files(
            desk_config, risk_config=risk_config, state_dir=self.state_dir, lock=False, books=False
        )
        stop_left_behind(
            self.layout, ("desk", "streamlit") if cfg.executor else ("streamlit",), timeout=cfg.stop_timeout
        )
        check_port(cfg.host, cfg.port)
        if cfg.executor:
            check_no_live_desk(self.state_dir, stale_after=cfg.stale_after)
            if cfg.new_account:  # here, once: a desk restarted by the supervisor keeps its account
                from trading.desk.books_check import archive_state_files  # the desk's packages are checked

                archive_state_files(self.layout, now=datetime.now(UTC))
            check_desk_files(desk_config, risk_config=None, state_dir=self.state_dir, lock=True)

    def _desk_config_path(self) -> Path | None:
        """The desk config the desk will load; in attach mode only one given with ``--config``."""
        if self.config.config is not None:
            return self.config.config.resolve()
        return DEFAULT_DESK_CONFIG if self.config.executor else None

    # --- children ----------------------------------------------------------------

    def _child_env(self) -> dict[str, str]:
        env = dict(os.environ)
        path = env.get("PYTHONPATH")
        env["PYTHONPATH"] = str(REPO_ROOT) + (os.pathsep + path if path else "")
        env["DESK_STATE_DIR"] = str(self.state_dir)
        env["DASHBOARD_REFRESH_SECONDS"] = str(self.config.refresh_interval)
        env["DASHBOARD_STALE_AFTER_SECONDS"] = str(self.config.stale_after)
        if self.operator is not None:  # else the dashboard names the OS user (dashboard.identity)
            env[ENV_OPERATOR] = self.operator
        else:
            env.pop(ENV_OPERATOR, None)
        if self.users_file is not None:  # a login is required (dashboard.login)
            env[ENV_USERS_FILE] = str(self.users_file)
        else:
            env.pop(ENV_USERS_FILE, None)
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
        on_started = self._record_child if cfg.executor else None
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
            if cfg.users_file is not None:  # the desk runs the commands of this file's operators only
                argv += ["--users", str(cfg.users_file.resolve())]
            elif self.operator is not None:  # else the OS user, as the dashboard records it
                argv += ["--operator", self.operator]
            if cfg.allow_live:
                argv.append("--allow-live")
            desk = ChildProcess(
                "desk",
                argv,
                cwd=REPO_ROOT,
                env=env,
                log_path=self.layout.log_file("desk"),
                deathsig=DEATH_SIGNALS["desk"],
            )
            children["desk"] = SupervisedChild(
                desk,
                lambda: heartbeat_health(self.layout.heartbeat, stale_after=cfg.stale_after, pid=desk.pid),
                policy,
                on_started=on_started,
            )
        argv = [
            cfg.python,
            "-m",
            "streamlit",
            "run",
            str(cfg.app_path.resolve()),
            *streamlit_argv(self._streamlit_options()),
        ]
        streamlit = ChildProcess(
            "streamlit",
            argv,
            cwd=self.run_dir,
            env=env,
            log_path=self.layout.log_file("streamlit"),
            deathsig=DEATH_SIGNALS["streamlit"],
        )
        children["streamlit"] = SupervisedChild(
            streamlit, lambda: streamlit_health(self.url), policy, on_started=on_started
        )
        return children

    def _streamlit_options(self) -> dict[str, str | int | bool]:
        cfg = self.config
        return streamlit_options(
            host=cfg.host,
            port=cfg.port,
            debug=cfg.debug,
            ssl_cert=None if cfg.ssl_cert is None else cfg.ssl_cert.resolve(),
            ssl_key=None if cfg.ssl_key is None else cfg.ssl_key.resolve(),
        )

    def _record_child(self, child: ChildProcess) -> None:
        """Rewrite ``run/launcher.json`` after a child (re)started (supervisor thread)."""
        record = self._record
        pid = None if child.pid is None else ProcessId.of(child.pid)
        if record is None or pid is None:
            return
        self._record = LauncherRecord(record.launcher, {**record.children, child.name: pid})
        self._record.write(self.layout)

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

        Raises ``TradingError`` when a pre-flight check fails (nothing is started then).
        False when a child gave up, was not healthy in time or a stop was requested first;
        ``get_status().problem`` says which.
        """
        with self._lock:
            if self._thread is not None:
                raise RuntimeError("DashboardRunner is already started")
            self.check()
            if self._stop_event.is_set():
                self._problem = "stopped before it was started"
                return False
            write_streamlit_config(self.run_dir, self._streamlit_options())
            self._children = self._build_children()
            me = ProcessId.of(os.getpid())
            self._record = LauncherRecord(me) if self.config.executor and me is not None else None
            self._ready.clear()
            self._healthy_at_start = False
            self._problem = ""
            if not self._atexit_registered:
                atexit.register(self.stop)
                self._atexit_registered = True
            self._started_at = time.monotonic()
            self._thread = threading.Thread(
                target=self._own_children,
                args=(timeout or self.config.startup_timeout,),
                name="dashboard-supervisor",
                daemon=True,
            )
            self._thread.start()
        self._ready.wait()
        if not self._healthy_at_start:
            self.stop()
            return False
        if not self.config.executor:
            beat = self.desk_health()
            if not beat.ok:
                logger.warning(
                    "no live desk on %s (%s): the dashboard will say so", self.state_dir, beat.detail
                )
        logger.info("dashboard ready at %s (state %s)", self.url, self.state_dir)
        return True

    def _own_children(self, timeout: float) -> None:
        """The supervisor thread: starts, restarts and stops every child. A child's parent-death
        signal follows the thread that forked it, so this thread ends only after they stopped."""
        try:
            now = time.monotonic()
            with self._lock:
                for child in self._children.values():
                    child.start(now)
            self._healthy_at_start = self._wait_healthy(timeout)
            self._ready.set()
            if self._healthy_at_start:
                self._supervise()
        except Exception as exc:  # reported through get_status(); the children are stopped below
            logger.exception("the supervisor failed")
            self._problem = f"the supervisor failed: {exc}"
            self._stop_event.set()
        finally:
            self._ready.set()
            self._stop_children()

    def _wait_healthy(self, timeout: float) -> bool:
        """Supervise (restart policy included) until every child is healthy, one gives up,
        the time is up or a stop is requested."""
        deadline = time.monotonic() + timeout
        step = min(0.2, self.config.poll_interval)
        while not self._stop_event.is_set():
            now = time.monotonic()
            with self._lock:
                children = list(self._children.values())
                for child in children:
                    child.tick(now)
                failed = [child.failure for child in children if child.failed]
                if failed:
                    self._problem = "; ".join(failed)
                    return False
                if all(child.healthy for child in children):
                    return True
            if now >= deadline:
                pending = [child for child in children if not child.healthy]
                for child in pending:
                    detail = child.last_health.detail if child.last_health else "never checked"
                    logger.error(
                        "%s not healthy within %.0f s: %s; see %s",
                        child.name,
                        timeout,
                        detail,
                        child.child.log_path,
                    )
                self._problem = ", ".join(c.name for c in pending) + f" not healthy within {timeout:.0f} s"
                return False
            self._stop_event.wait(step)
        self._problem = "stopped before it was ready"
        return False

    def _supervise(self) -> None:
        while not self._stop_event.wait(self.config.poll_interval):
            with self._lock:
                for child in self._children.values():
                    child.tick(time.monotonic())
                failed = [child.failure for child in self._children.values() if child.failed]
                if failed:
                    self._problem = "; ".join(failed)
                    self._stop_event.set()
        logger.debug("supervisor stopped")

    def _stop_children(self) -> None:
        """Streamlit first, then the desk: SIGTERM, then SIGKILL after ``stop_timeout``."""
        with self._lock:
            for name in ("streamlit", "desk"):
                child = self._children.get(name)
                if child is not None and child.child.proc is not None:
                    code = child.child.stop(timeout=self.config.stop_timeout)
                    logger.info("%s stopped (exit code %s)", name, code)
            if self._record is not None:
                self._record.remove(self.layout)
                self._record = None

    def request_stop(self) -> None:
        """Ask the runner to stop (thread- and signal-safe); ``wait()`` returns, ``stop()`` finishes."""
        self._stop_event.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the runner stops (signal, ``stop()`` or a child past its restart limit)."""
        return self._stop_event.wait(timeout)

    def stop(self) -> None:
        """Stop Streamlit, then the desk: SIGTERM, then SIGKILL after ``stop_timeout``. Idempotent."""
        self._stop_event.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=2 * self.config.stop_timeout + 15.0)
            if thread.is_alive():
                logger.error("the supervisor did not finish stopping the children")
        with self._lock:
            self._started_at = None
        self._stop_event.clear()  # a later start() may run again

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
                problem=self._problem,
                bad_input=tuple(name for name, c in children.items() if c.gave_up_on_bad_input),
            )

    statistics = get_status

    def __enter__(self) -> DashboardRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        status = self.get_status()
        return f"DashboardRunner(url={self.url!r}, running={status.running}, pids={status.pids})"


def _operator_name(name: str | None) -> str | None:
    """The ``--operator`` name, stripped; ``ConfigError`` for an empty or unprintable one."""
    if name is None:
        return None
    cleaned = name.strip()
    if not cleaned or len(cleaned) > 64 or not cleaned.isprintable():
        raise ConfigError(
            f"--operator {name!r}: a name of 1-64 printable characters",
            field="operator",
            value=name,
            allowed="1-64 printable characters",
        )
    return cleaned


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
    p.add_argument(
        "--state", type=state_path, default=REPO_ROOT / "data", help="state directory (default data/)"
    )
    p.add_argument("--no-executor", action="store_true", help="attach to a desk already running on --state")
    p.add_argument("--app", type=Path, default=REPO_ROOT / "dashboard" / "app.py", help=argparse.SUPPRESS)
    p.add_argument("--restart-limit", type=int, default=5, help="consecutive restarts before giving up")
    p.add_argument(
        "--operator",
        metavar="NAME",
        help="without --users: who is at the dashboard, recorded with every command (default: the OS user)",
    )
    p.add_argument(
        "--users",
        type=Path,
        metavar="FILE",
        help="require a login: the users file made by scripts/desk_users.py (needed for any --host "
        "but a loopback address)",
    )
    p.add_argument("--ssl-cert", type=Path, metavar="FILE", help="serve https: the certificate (PEM)")
    p.add_argument("--ssl-key", type=Path, metavar="FILE", help="serve https: its private key (PEM)")
    p.add_argument(
        "--allow-live",
        action="store_true",
        help="pass --allow-live to the desk (a live broker account; the config must allow it too)",
    )
    p.add_argument(
        "--new-account",
        action="store_true",
        help="start a fresh account: the state directory's books and state file move to "
        "<state>/archive-<UTC time>/ (never deleted) before the desk starts",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    signals = StopSignals.install()  # before any thread starts: all of them inherit the block
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
            operator=args.operator,
            users_file=args.users,
            ssl_cert=args.ssl_cert,
            ssl_key=args.ssl_key,
            allow_live=args.allow_live,
            new_account=args.new_account,
        )
    except ConfigError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    signals.on_stop(runner.request_stop)
    try:
        started = runner.start()  # the pre-flight checks first: nothing starts when one fails
        if started:
            print(f"Dashboard: {runner.url}  (state {runner.state_dir}; Ctrl-C stops)", flush=True)
            while not runner.wait(1.0):
                pass
        status = runner.get_status()
    except TradingError as exc:  # a pre-flight check (or the port taken between check and start)
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    finally:
        runner.stop()
    if signals.received is not None and not status.failed:
        return 0  # stopped by SIGINT/SIGTERM (logged once by StopSignals), during start-up too
    if status.failed or not started:
        print(
            f"{prog}: error: {status.problem or 'the dashboard did not become healthy'}; "
            f"logs in {runner.layout.logs}",
            file=sys.stderr,
        )
        return 2 if status.bad_input else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
