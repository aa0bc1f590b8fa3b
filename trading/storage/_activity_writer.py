"""The activity log's queue and its one background writer thread.

Kept apart from ``ActivityLog`` so an interpreter-exit finalizer can flush the queue
without holding a reference to the ``ActivityLog`` itself.

The writer takes up to ``batch_size`` records at a time off a ``deque`` (``popleft`` is
atomic in CPython, as is the producers' ``append``), turns them into rows and inserts
them with one ``executemany`` in a ``BEGIN IMMEDIATE`` transaction on its own raw
``sqlite3`` connection. A flush is a ``threading.Event`` put on the same queue: once the
writer reaches it, everything queued before it has been committed.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert

from trading.storage._schema import activity
from trading.storage.database import Database, is_busy_error

logger = logging.getLogger("trading.storage.activity")

_INSERT = "INSERT INTO activity (ts, level, source, message, details) VALUES (?, ?, ?, ?, ?)"
_MAX_ATTEMPTS = 8

Record = tuple[float, str, str, str, "dict[str, Any] | None"]
Row = tuple[str, str, str, str, "str | None"]


class ActivityWriter:
    def __init__(
        self,
        db: Database,
        *,
        max_queue: int,
        batch_size: int,
        flush_interval: float,
        monotonic: Callable[[], float],
        warn_interval: float,
    ) -> None:
        self.db = db
        self.queue: deque[Any] = deque()
        self.limit = max_queue  # set to 0 on close: every later record is dropped and counted
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.monotonic = monotonic
        self.warn_interval = warn_interval
        self.wake = threading.Event()
        self.stopping = False
        self.thread: threading.Thread | None = None
        self.write_lock = threading.Lock()  # one writer at a time: the thread, or a flush without it
        self.drop_lock = threading.Lock()
        self.written = self.batches = self.retries = self.errors = 0
        self.dropped = self.reported_drops = 0
        self.last_warning = float("-inf")
        self._sec = -1
        self._sec_text = ""

    # --- producers ---------------------------------------------------------------

    def drop(self) -> None:
        with self.drop_lock:
            self.dropped += 1
            self.report_drops()

    def report_drops(self, *, force: bool = False) -> None:
        """Log a WARNING with the drops not yet reported, at most once per ``warn_interval``."""
        unreported = self.dropped - self.reported_drops
        if unreported <= 0:
            return
        now = self.monotonic()
        if not force and now - self.last_warning < self.warn_interval:
            return
        why = "it is closed" if self.limit == 0 else f"its queue is full ({len(self.queue)} records)"
        logger.warning(
            "activity log dropped %d records because %s (%d dropped in total)", unreported, why, self.dropped
        )
        self.reported_drops = self.dropped
        self.last_warning = now

    # --- the writer thread -------------------------------------------------------

    def start(self) -> None:
        if self.thread is not None:
            return
        self.thread = threading.Thread(target=self._run, name="activity-log-writer", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        conn = self.db.raw_connection()
        try:
            while True:
                with self.write_lock:
                    progressed = self._drain_once(conn)
                if self.dropped != self.reported_drops:
                    with self.drop_lock:
                        self.report_drops()
                if not progressed:
                    if self.stopping:
                        return
                    self.wake.wait(self.flush_interval)
                    self.wake.clear()
        except Exception:  # the writer must never die silently: log and stop (records stay queued)
            logger.exception("activity log writer stopped by an unexpected error")
        finally:
            conn.close()

    def drain_all(self) -> None:
        """Write everything queued, in the calling thread (used when no writer thread runs)."""
        conn = self.db.raw_connection()
        try:
            with self.write_lock:
                while self._drain_once(conn):
                    pass
        finally:
            conn.close()

    def _drain_once(self, conn: Any) -> bool:
        """Write one batch (up to the next flush marker); True if anything was taken off the queue."""
        queue = self.queue
        if not queue:
            return False
        rows: list[Row] = []
        append = rows.append
        popleft = queue.popleft
        marker: threading.Event | None = None
        dumps = json.dumps
        for _ in range(min(len(queue), self.batch_size)):
            item = popleft()
            if type(item) is not tuple:
                marker = item
                break
            ts, level, source, message, details = item
            sec = int(ts)
            if sec != self._sec:
                self._sec = sec
                self._sec_text = datetime.fromtimestamp(sec, UTC).strftime("%Y-%m-%dT%H:%M:%S")
            append(
                (
                    f"{self._sec_text}.{int((ts - sec) * 1e6):06d}+00:00",
                    level,
                    source,
                    message,
                    None if details is None else dumps(details, default=str),
                )
            )
        if rows:
            self._insert(conn, rows)
        if marker is not None:
            marker.set()
        return True

    def _insert(self, conn: Any, rows: list[Row]) -> None:
        delay = 0.002
        for attempt in range(1, _MAX_ATTEMPTS + 1):
            try:
                self._insert_once(conn, rows)
                self.written += len(rows)
                self.batches += 1
                return
            except Exception as exc:
                if not is_busy_error(exc) or attempt == _MAX_ATTEMPTS:
                    self.errors += len(rows)
                    logger.error(
                        "activity log lost %d records after %d attempts: %s", len(rows), attempt, exc
                    )
                    return
                self.retries += 1
                logger.debug("activity log batch busy (attempt %d), retrying in %.3fs", attempt, delay)
                time.sleep(delay)
                delay = min(delay * 2, 0.5)

    def _insert_once(self, conn: Any, rows: list[Row]) -> None:
        if not self.db.is_sqlite:
            columns = ("ts", "level", "source", "message", "details")
            params = [dict(zip(columns, row, strict=True)) for row in rows]
            self.db.write(lambda c: c.execute(insert(activity), params))
            return
        raw = conn.driver_connection
        serial = self.db.serial_lock
        if serial is not None:
            serial.acquire()
        try:
            raw.execute("BEGIN IMMEDIATE")
            try:
                raw.executemany(_INSERT, rows)
                raw.execute("COMMIT")
            except BaseException:
                if raw.in_transaction:
                    raw.execute("ROLLBACK")
                raise
        finally:
            if serial is not None:
                serial.release()

    # --- flush and shutdown ------------------------------------------------------

    def flush(self, timeout: float) -> bool:
        """True once everything queued before the call is committed, False on timeout."""
        thread = self.thread
        if thread is None or not thread.is_alive():
            self.drain_all()
            return True
        marker = threading.Event()
        self.queue.append(marker)
        self.wake.set()
        return marker.wait(timeout)

    def close(self, timeout: float) -> bool:
        """Stop taking records, write what is queued and stop the thread. Idempotent."""
        self.limit = 0
        self.stopping = True
        thread = self.thread
        done = True
        if thread is not None and thread.is_alive():
            self.wake.set()
            thread.join(timeout)
            done = not thread.is_alive()
            if not done:
                logger.warning(
                    "activity log writer did not finish within %.1fs; %d records still queued",
                    timeout,
                    len(self.queue),
                )
        elif self.queue and not self.db.closed:
            self.drain_all()
        with self.drop_lock:
            self.report_drops(force=True)
        return done


def close_at_exit(writer: ActivityWriter, timeout: float) -> None:
    """The interpreter-exit (or garbage-collection) hook: flush what is queued."""
    try:
        writer.close(timeout)
    except Exception:  # at interpreter exit there is no caller left to tell; log and go on
        logger.exception("activity log could not flush at exit")
