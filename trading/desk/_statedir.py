"""The state directory: where the desk's files live, one desk at a time, and its heartbeat."""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from trading.errors import DeskAlreadyRunning, StateError

__all__ = ["DeskLock", "StateDir", "read_heartbeat", "write_heartbeat"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class StateDir:
    root: Path

    @property
    def state_file(self) -> Path:
        return self.root / "state.pkl"

    @property
    def database(self) -> Path:
        return self.root / "desk.db"

    @property
    def heartbeat(self) -> Path:
        return self.root / "heartbeat.json"

    @property
    def lock_file(self) -> Path:
        return self.root / "desk.lock"

    def prepare(self) -> None:
        """Create the directory and prove it is writable; ``StateError`` naming the path otherwise."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fd, probe = tempfile.mkstemp(prefix=".probe-", dir=self.root)
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            raise StateError(
                f"state directory {self.root} cannot be written: {exc.strerror or exc}", path=self.root
            ) from None


class DeskLock:
    """An exclusive lock on the state directory (``desk.lock``), held for the desk's life.

    The OS releases it when the process dies, even by SIGKILL, so a crashed desk never
    blocks the next one.
    """

    def __init__(self, state_dir: StateDir) -> None:
        self._state_dir = state_dir
        self._lock = FileLock(
            str(state_dir.lock_file), timeout=0, thread_local=False
        )  # released from a worker thread

    def acquire(self) -> None:
        try:
            self._lock.acquire()
        except Timeout:
            beat = read_heartbeat(self._state_dir.heartbeat)
            pid = beat.get("pid") if beat else None
            raise DeskAlreadyRunning(self._state_dir.root, pid if isinstance(pid, int) else None) from None

    def release(self) -> None:
        self._lock.release()

    @property
    def is_locked(self) -> bool:
        return self._lock.is_locked


def write_heartbeat(path: Path, *, pid: int, started_at: datetime, sim_time: datetime, state: str) -> None:
    """Atomically replace the heartbeat file (temp file + ``os.replace``)."""
    payload = {
        "pid": pid,
        "ts": time.time(),
        "started_at": started_at.isoformat(),
        "sim_time": sim_time.isoformat(),
        "trading_state": state,
    }
    tmp = path.with_name(f".{path.name}.{pid}.tmp")
    tmp.write_text(json.dumps(payload), encoding="utf-8")
    os.replace(tmp, path)


def read_heartbeat(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
