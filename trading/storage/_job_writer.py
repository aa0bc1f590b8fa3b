"""``BackgroundJobStore``: job records written on a thread, so the event loop never waits on SQLite.

The executor calls ``JobStore.record`` on its event loop three times per task (PENDING,
RUNNING, the end). Here ``record`` only queues the (frozen) record; one writer thread turns
records into rows and upserts them in batches, one transaction and one compiled statement a
batch, keeping only the newest record of a task within a batch. A record that cannot be
stored is logged and counted in ``errors``; the others of its batch are written.
``unfinished`` flushes first, so it sees everything recorded before it.
"""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass
from typing import Any

from trading.signals.jobs import JobRecord
from trading.storage.jobs import JobRepository, job_values

__all__ = ["BackgroundJobStore", "BackgroundJobStoreStatistics"]

logger = logging.getLogger(__name__)

_STOP = object()


@dataclass(frozen=True, slots=True)
class BackgroundJobStoreStatistics:
    queued: int
    written: int
    batches: int
    errors: int


class BackgroundJobStore:
    """A ``JobStore`` over a ``JobRepository`` whose writes happen on one background thread."""

    def __init__(self, repository: JobRepository, *, batch_size: int = 500) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self._repo = repository
        self._batch_size = batch_size
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._written = self._batches = self._errors = 0
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="job-writer", daemon=True)
        self._thread.start()

    # --- JobStore ------------------------------------------------------------------

    def record(self, job: JobRecord) -> None:
        if self._closed:
            raise RuntimeError("BackgroundJobStore is closed")
        if not isinstance(job, JobRecord):
            raise TypeError(f"record needs a JobRecord, got {type(job).__name__}")
        self._queue.put(job)  # turned into a row on the writer thread

    def unfinished(self, lane: str) -> list[JobRecord]:
        self.flush()
        return self._repo.unfinished(lane)

    # --- lifecycle -----------------------------------------------------------------

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every record queued before this call is in the database."""
        if not self._thread.is_alive():
            return self._queue.empty()
        done = threading.Event()
        self._queue.put(done)
        return done.wait(timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued, then stop the thread."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(_STOP)
        self._thread.join(timeout)
        if self._thread.is_alive():
            logger.warning("job writer did not finish within %.1fs; %d records may be unwritten",
                           timeout, self._queue.qsize())  # fmt: skip

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            rows: dict[str, JobRecord] = {}
            waiters: list[threading.Event] = []
            stop = False
            while True:
                if item is _STOP:
                    stop = True
                elif isinstance(item, threading.Event):
                    waiters.append(item)
                else:
                    rows[item.task_id] = item  # a later record of the same task replaces it
                if stop or len(rows) >= self._batch_size:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            self._write(list(rows.values()))
            for waiter in waiters:
                waiter.set()
            if stop:
                return

    def _write(self, records: list[JobRecord]) -> None:
        rows = []
        for record in records:
            try:
                rows.append(job_values(record))
            except (TypeError, ValueError):  # a bad record is dropped alone, logged and counted
                self._errors += 1
                logger.exception("job record %s cannot be stored", record.task_id)
        if not rows:
            return
        try:
            self._repo.record_values(rows)
        except Exception:  # the writer must go on; the loss is logged with its size and counted
            self._errors += 1
            logger.exception("could not write %d job record(s)", len(rows))
        else:
            self._written += len(rows)
            self._batches += 1

    def statistics(self) -> BackgroundJobStoreStatistics:
        return BackgroundJobStoreStatistics(
            queued=self._queue.qsize(), written=self._written, batches=self._batches, errors=self._errors
        )

    def __repr__(self) -> str:
        s = self.statistics()
        return f"BackgroundJobStore(written={s.written}, queued~{s.queued}, errors={s.errors})"
