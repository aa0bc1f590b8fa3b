"""The launcher's record in the state directory, and cleaning up after a launcher that died.

A launcher that starts a desk writes ``<state>/run/launcher.json``: its own pid and the
pid of each child it started, each with the process's start time so a reused pid is
never mistaken for it. The file is rewritten after every (re)start of a child and
removed by a clean stop.

The next launcher reads it. When the recorded launcher is gone but a recorded child still
runs (the parent-death signal is not available, or the child ignored it or hangs in its
shutdown), that child was left behind: ``stop_left_behind`` stops it (SIGTERM to its
process group, a wait, SIGKILL after the timeout) so the new launcher can proceed. A
process the record does not name, such as a desk started by hand, is never touched; the
launcher's checks refuse to start beside it.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trading.state_dir import StateDir

__all__ = ["LauncherRecord", "ProcessId", "stop_left_behind"]

logger = logging.getLogger(__name__)

_SAME_START = 0.05  # seconds: two readings of one process's start time agree far closer than this


@dataclass(frozen=True, slots=True)
class ProcessId:
    """A pid plus the process's start time (epoch seconds): a reused pid does not match."""

    pid: int
    started: float

    @classmethod
    def of(cls, pid: int) -> ProcessId | None:
        """The running process ``pid``; None when there is none."""
        import psutil

        try:
            return cls(pid, psutil.Process(pid).create_time())
        except psutil.Error:
            return None

    def alive(self) -> bool:
        """This very process still runs (not a zombie, not a newer process with the same pid)."""
        import psutil

        try:
            proc = psutil.Process(self.pid)
            return abs(proc.create_time() - self.started) < _SAME_START and (
                proc.status() != psutil.STATUS_ZOMBIE
            )
        except psutil.Error:
            return False

    def to_json(self) -> dict[str, Any]:
        return {"pid": self.pid, "started": self.started}

    @classmethod
    def from_json(cls, data: object) -> ProcessId:
        if not isinstance(data, dict):
            raise ValueError(f"expected an object with pid and started, got {data!r}")
        pid, started = data.get("pid"), data.get("started")
        if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
            raise ValueError(f"pid must be a positive integer, got {pid!r}")
        if not isinstance(started, int | float) or isinstance(started, bool):
            raise ValueError(f"started must be epoch seconds, got {started!r}")
        return cls(pid, float(started))


@dataclass(frozen=True, slots=True)
class LauncherRecord:
    """Which launcher runs on a state directory and which children it started."""

    launcher: ProcessId
    children: dict[str, ProcessId] = field(default_factory=dict)

    @staticmethod
    def path(state_dir: StateDir) -> Path:
        return state_dir.run_dir / "launcher.json"

    @classmethod
    def read(cls, state_dir: StateDir) -> LauncherRecord | None:
        """The record; None when there is none. A malformed file is logged as a WARNING and
        reads as None (nothing is then stopped on its word)."""
        path = cls.path(state_dir)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict) or not isinstance(data.get("children"), dict):
                raise ValueError("expected an object with launcher and children")
            return cls(
                ProcessId.from_json(data.get("launcher")),
                {str(name): ProcessId.from_json(pid) for name, pid in data["children"].items()},
            )
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            logger.warning("unreadable launcher record %s: %s", path, exc)
            return None

    def write(self, state_dir: StateDir) -> None:
        """Atomically replace the record (temp file beside it + ``os.replace``)."""
        path = self.path(state_dir)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "launcher": self.launcher.to_json(),
            "children": {name: pid.to_json() for name, pid in self.children.items()},
        }
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data), encoding="utf-8")
        os.replace(tmp, path)

    def remove(self, state_dir: StateDir) -> None:
        """Remove the file when it is still this record's (another launcher may have replaced it)."""
        current = self.read(state_dir)
        if current is not None and current.launcher == self.launcher:
            try:
                self.path(state_dir).unlink()
            except FileNotFoundError:
                pass  # removed meanwhile: the goal is reached


def stop_left_behind(state_dir: StateDir, names: tuple[str, ...], *, timeout: float) -> list[str]:
    """Stop the children ``names`` that a dead launcher left running on ``state_dir``.

    Nothing happens when there is no record or its launcher still runs. Returns a line per
    child stopped, for the log.
    """
    record = LauncherRecord.read(state_dir)
    if record is None or record.launcher.alive():
        return []
    stopped = []
    for name in names:
        child = record.children.get(name)
        if child is None or not child.alive():
            continue
        logger.warning(
            "%s (pid %d) was left running by launcher pid %d, which is gone: stopping it (SIGTERM)",
            name,
            child.pid,
            record.launcher.pid,
        )
        began = time.monotonic()
        how = _terminate(child, timeout=timeout)
        line = f"{name} (pid {child.pid}) {how} after {time.monotonic() - began:.1f} s"
        logger.warning("%s", line)
        stopped.append(line)
    if all(not pid.alive() for pid in record.children.values()):
        try:
            LauncherRecord.path(state_dir).unlink()
        except FileNotFoundError:
            pass  # another launcher removed it: the goal is reached
    return stopped


def _terminate(child: ProcessId, *, timeout: float) -> str:
    """SIGTERM to the child's process group (each child leads its own), then SIGKILL."""
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        _signal(child, sig)
        deadline = time.monotonic() + wait
        while child.alive():
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
        else:
            return "stopped" if sig is signal.SIGTERM else "killed (it ignored SIGTERM)"
    return "could not be stopped"


def _signal(child: ProcessId, sig: signal.Signals) -> None:
    try:
        if os.getpgid(child.pid) == child.pid:
            os.killpg(child.pid, sig)
        else:
            os.kill(child.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass  # gone meanwhile, or not ours: alive() tells the caller
