"""``WalCheckpointer``: copies an SQLite WAL into its database file on a thread of its own.

A checkpoint writes back every page the log holds and ends with an fsync: milliseconds.
The journal's connection never checkpoints (its ``wal_autocheckpoint`` is off), so its
commits stay short; it wakes this thread every ``every`` commits instead, and the thread
runs a PASSIVE checkpoint on its own connection (readers and the writer go on meanwhile).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from sqlalchemy import Engine

__all__ = ["WalCheckpointer"]

logger = logging.getLogger(__name__)


class WalCheckpointer:
    def __init__(self, engine: Engine, *, every: int, name: str) -> None:
        if every < 1:
            raise ValueError(f"every must be >= 1 commit, got {every!r}")
        self._engine = engine
        self._every = every
        self._since = 0
        self._wake = threading.Event()
        self._stopping = False
        self.checkpoints = 0
        self.errors = 0
        self._thread = threading.Thread(target=self._run, name=f"wal-checkpoint-{name}", daemon=True)
        self._thread.start()

    def committed(self) -> None:
        """Count a commit; every ``every`` commits the thread checkpoints."""
        self._since += 1
        if self._since >= self._every:
            self._since = 0
            self._wake.set()

    def _run(self) -> None:
        conn: Any = self._engine.raw_connection()
        try:
            while True:
                self._wake.wait()
                self._wake.clear()
                if self._stopping:
                    return
                try:
                    conn.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
                    self.checkpoints += 1
                except Exception as exc:  # the log just stays longer; the next wake tries again
                    self.errors += 1
                    logger.debug("WAL checkpoint failed: %s", exc)
        finally:
            conn.close()

    def close(self, timeout: float = 10.0) -> None:
        """Stop the thread (a checkpoint under way finishes first). Idempotent."""
        self._stopping = True
        self._wake.set()
        self._thread.join(timeout)

    def __repr__(self) -> str:
        return f"WalCheckpointer(every={self._every}, checkpoints={self.checkpoints}, errors={self.errors})"
