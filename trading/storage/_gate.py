"""``WriteGate``: one SQLite write transaction at a time in this process, the journal's first.

SQLite lets one connection write at a time. A connection that finds the write lock taken
waits in SQLite's busy handler, which sleeps in steps of 1, 2, 5, 10... milliseconds: a
journal commit that meets a background batch of activity rows on the same file would wait a
millisecond at least, and often far more (measured in bench/bench_risk.py: journal commits
p99 ~40 ms with the risk records' writer on the same file). So every writer of a ``Database``
in this process passes this gate first: the wait is then exactly as long as the transaction
in progress, and never meets the busy handler. The journal is *urgent*: while it waits, no
background transaction starts, so it waits for at most the one under way.

Writers in other processes (the dashboard's commands) still meet SQLite's own lock.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

__all__ = ["WriteGate"]


class WriteGate:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state = threading.Condition(threading.Lock())
        self._urgent = 0  # urgent writers waiting for the lock
        self.waits = 0  # times a writer found the gate taken

    @contextlib.contextmanager
    def urgent(self) -> Iterator[None]:
        """For the journal: no background transaction starts while this waits."""
        if not self._lock.acquire(blocking=False):
            with self._state:
                self._urgent += 1
            try:
                self.waits += 1
                self._lock.acquire()
            finally:
                with self._state:
                    self._urgent -= 1
                    self._state.notify_all()
        try:
            yield
        finally:
            self._lock.release()

    @contextlib.contextmanager
    def background(self) -> Iterator[None]:
        """For every other writer: waits while an urgent writer waits, then for the lock."""
        waited = False
        with self._state:
            while self._urgent:
                waited = True
                self._state.wait()
        if not self._lock.acquire(blocking=False):
            waited = True
            self._lock.acquire()
        if waited:
            self.waits += 1
        try:
            yield
        finally:
            self._lock.release()

    def __repr__(self) -> str:
        return f"WriteGate(urgent_waiting={self._urgent}, waits={self.waits})"
