"""The cross-process lock: ``flock`` on a lock file beside the state file.

Waiting strategy: try without blocking; on contention poll with exponential back-off from
20 µs up to a 500 µs cap. filelock's fixed 50 ms poll lets the holder re-take the lock
again and again while the other process sleeps (starvation, p99 waits of tens of ms);
a short capped back-off keeps waits to about one critical section. Each wait is recorded
so ``statistics()`` can report percentiles.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import time
from collections import deque
from pathlib import Path

from trading.errors import StateError, StateLockTimeout

__all__ = ["ProcessLock"]

logger = logging.getLogger(__name__)

_FIRST_SLEEP = 20e-6
_MAX_SLEEP = 500e-6


class ProcessLock:
    """A non-reentrant inter-process exclusive lock (callers serialise their threads first)."""

    def __init__(self, path: Path, *, timeout: float, samples: int = 4096) -> None:
        self.path = path
        self.timeout = timeout
        self._fd: int | None = None
        self.waits: deque[float] = deque(maxlen=samples)
        self.acquired = 0
        self.contended = 0

    def _open(self) -> int:
        if self._fd is None:
            try:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
            except OSError as exc:
                raise StateError(
                    f"cannot open lock file {self.path}: {exc.strerror} "
                    "(the directory must allow creating it, "
                    "or the file must exist and be writable)",
                    path=self.path,
                ) from exc
        return self._fd

    def acquire(self, timeout: float | None = None) -> float:
        """Take the lock; return the seconds waited. Raises ``StateLockTimeout``."""
        fd = self._open()
        limit = self.timeout if timeout is None else timeout
        start = time.perf_counter()
        sleep = _FIRST_SLEEP
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise StateError(f"cannot lock {self.path}: {exc.strerror}", path=self.path) from exc
            waited = time.perf_counter() - start
            if waited >= limit:
                raise StateLockTimeout(
                    f"could not lock {self.path} within {limit:.3f} s: another process holds it",
                    path=self.path,
                )
            time.sleep(min(sleep, max(limit - waited, 0.0)))
            sleep = min(sleep * 2, _MAX_SLEEP)
        waited = time.perf_counter() - start
        self.acquired += 1
        if sleep > _FIRST_SLEEP:
            self.contended += 1
        self.waits.append(waited)
        return waited

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def wait_percentile(self, q: float) -> float:
        if not self.waits:
            return 0.0
        ordered = sorted(self.waits)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    def __repr__(self) -> str:
        return f"ProcessLock({str(self.path)!r}, acquired={self.acquired}, contended={self.contended})"
