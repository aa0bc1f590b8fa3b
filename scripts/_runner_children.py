"""Child processes of the dashboard launcher, and their health checks.

Each child runs in its own session (process group), so stopping it reaches anything it
spawned: SIGTERM to the group, then SIGKILL after a timeout. No child outlives ``stop``.
A child given a ``deathsig`` also gets that signal from the kernel when the thread that
started it ends, the launcher's death by SIGKILL included (``_runner_deathsig``).
"""

from __future__ import annotations

import logging
import os
import signal
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from scripts._runner_deathsig import ParentDeathSignal
from trading.state_dir import Heartbeat

__all__ = ["ChildProcess", "HealthResult", "heartbeat_health", "streamlit_health"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class HealthResult:
    ok: bool
    detail: str
    checked_at: float  # epoch seconds


def streamlit_health(url: str, *, timeout: float = 2.0) -> HealthResult:
    """``GET <url>/_stcore/health`` must answer 200 with body ``ok`` (other paths answer 200 with HTML).

    Over https the certificate is not verified: this asks the launcher's own child whether it
    serves, on an address the certificate need not name; browsers verify it."""
    now = time.time()
    context = None
    if url.startswith("https://"):
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=timeout, context=context) as resp:
            body = resp.read(64).decode("utf-8", "replace").strip()
            if resp.status == 200 and body == "ok":
                return HealthResult(True, "ok", now)
            return HealthResult(False, f"health answered {resp.status} {body[:20]!r}", now)
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return HealthResult(False, f"health check failed: {reason}", now)


def heartbeat_health(path: Path, *, stale_after: float, pid: int | None = None) -> HealthResult:
    """The desk's heartbeat file (``StateDir.heartbeat``) is fresh (and written by ``pid`` when given)."""
    now = time.time()
    beat = Heartbeat.read(path)  # logs a WARNING naming the file when it is garbage
    if beat is None:
        if path.exists():
            return HealthResult(False, f"unreadable heartbeat {path}", now)
        return HealthResult(False, f"no heartbeat at {path}", now)
    if pid is not None and beat.pid != pid:
        return HealthResult(False, f"heartbeat is from pid {beat.pid}, not {pid}", now)
    age = now - beat.ts
    if age > stale_after:
        return HealthResult(False, f"heartbeat {age:.1f} s old (limit {stale_after:g} s)", now)
    return HealthResult(True, f"heartbeat {age:.1f} s old", now)


class ChildProcess:
    """One supervised command: start, poll, stop (graceful, then forced)."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        cwd: Path,
        env: Mapping[str, str],
        log_path: Path,
        deathsig: signal.Signals | None = None,
    ) -> None:
        self.name = name
        self.deathsig = deathsig
        self.argv = list(argv)
        self.cwd = cwd
        self.env = dict(env)
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None
        self.started_at: float | None = None
        self._log: IO[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return None if self.proc is None else self.proc.pid

    def start(self) -> int:
        if self.proc is not None and self.proc.poll() is None:
            raise RuntimeError(f"{self.name} is already running (pid {self.proc.pid})")
        self._reap()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "ab")  # noqa: SIM115 (kept open for the child's lifetime)
        self._log.write(
            f"\n--- {time.strftime('%Y-%m-%d %H:%M:%S')} starting: {' '.join(self.argv)}\n".encode()
        )
        self._log.flush()
        self.proc = subprocess.Popen(
            self.argv,
            cwd=self.cwd,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=None if self.deathsig is None else ParentDeathSignal(self.deathsig),
        )
        self.started_at = time.monotonic()
        logger.debug("started %s pid %s: %s", self.name, self.proc.pid, self.argv)
        return self.proc.pid

    def last_output_line(self, *, limit: int = 4096) -> str:
        """The last non-empty line the child wrote to its log ("" when there is none)."""
        try:
            with open(self.log_path, "rb") as log:
                log.seek(max(0, log.seek(0, os.SEEK_END) - limit))
                tail = log.read().decode("utf-8", "replace")
        except OSError:
            return ""
        lines = [line.strip() for line in tail.splitlines() if line.strip()]
        return lines[-1] if lines else ""

    def poll(self) -> int | None:
        """None while running, else the exit code (negative: killed by that signal)."""
        return None if self.proc is None else self.proc.poll()

    def stop(self, *, timeout: float = 10.0) -> int | None:
        """SIGTERM the child's process group, wait ``timeout``, then SIGKILL it. Returns the exit code."""
        if self.proc is None:
            return None
        proc = self.proc
        if proc.poll() is None:
            self._signal_group(signal.SIGTERM)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                logger.warning(
                    "%s (pid %s) did not stop within %.1f s: killing it", self.name, proc.pid, timeout
                )
                self._signal_group(signal.SIGKILL)
                proc.wait(timeout=5.0)
        self._signal_group(signal.SIGKILL)  # anything the child left behind in its group
        code = proc.returncode
        self._reap()
        return code

    def _signal_group(self, sig: signal.Signals) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass  # the group is already gone

    def _reap(self) -> None:
        if self.proc is not None:
            self._signal_group(signal.SIGKILL)
            try:
                self.proc.wait(timeout=5.0)
            except subprocess.TimeoutExpired:
                logger.error("%s (pid %s) survived SIGKILL", self.name, self.proc.pid)
        if self._log is not None:
            self._log.close()
            self._log = None
        self.proc = None

    def __repr__(self) -> str:
        running = self.proc is not None and self.poll() is None
        return f"ChildProcess({self.name!r}, pid={self.pid}, running={running}, deathsig={self.deathsig})"
