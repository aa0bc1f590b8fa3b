"""The desk's hold on its state directory: one desk at a time.

The directory's layout and the heartbeat format live in ``trading.state_dir`` (shared
with the dashboard and the launcher); this module holds only what is the desk's own.
"""

from __future__ import annotations

import logging

from filelock import FileLock, Timeout

from trading.errors import DeskAlreadyRunning
from trading.state_dir import Heartbeat, StateDir

__all__ = ["DeskLock"]

logger = logging.getLogger(__name__)


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
            beat = Heartbeat.read(self._state_dir.heartbeat)
            raise DeskAlreadyRunning(self._state_dir.root, beat.pid if beat else None) from None

    def release(self) -> None:
        self._lock.release()

    @property
    def is_locked(self) -> bool:
        return self._lock.is_locked
