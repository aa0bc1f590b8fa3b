"""``BackgroundJobStore``: job records written on the database's background writer, so the
event loop never waits on the database.

The executor calls ``JobStore.record`` on its event loop three times per task (PENDING,
RUNNING, the end). Here ``record`` only checks the record and queues it (never refused while
the store is open); the writer thread turns records into rows and upserts them in batches,
keeping only the newest record of a task within a batch. A record that cannot be stored is
logged and counted in ``errors``; the others of its batch are written. ``unfinished``
flushes first, so it sees everything recorded before it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from trading.signals.jobs import JobRecord
from trading.storage.jobs import JobRepository
from trading.storage.writer import BackgroundWriter

__all__ = ["BackgroundJobStore", "BackgroundJobStoreStatistics"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class BackgroundJobStoreStatistics:
    """Counts of the writer's job-record channel (shared by every job store on the database)."""

    queued: int  # items waiting in the database writer's queue now (every producer's)
    written: int
    batches: int
    errors: int


class BackgroundJobStore:
    """A ``JobStore`` over a ``JobRepository`` whose writes happen on ``writer`` (default: the
    repository's database's own). Starts the writer."""

    def __init__(self, repository: JobRepository, *, writer: BackgroundWriter | None = None) -> None:
        self._repo = repository
        self._writer = writer if writer is not None else repository.database.writer()
        self._channel = repository.channel(self._writer)
        self._closed = False
        self._writer.start()

    # --- JobStore ------------------------------------------------------------------

    def record(self, job: JobRecord) -> None:
        if self._closed:
            raise RuntimeError("BackgroundJobStore is closed")
        if not isinstance(job, JobRecord):
            raise TypeError(f"record needs a JobRecord, got {type(job).__name__}")
        self._channel.put(job)  # turned into a row on the writer thread

    def unfinished(self, lane: str) -> list[JobRecord]:
        self.flush()
        return self._repo.unfinished(lane)

    # --- lifecycle -----------------------------------------------------------------

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every record queued before this call is in the database."""
        return self._writer.flush(timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Refuse new records and write the queued ones (the writer goes on for the database's
        other producers). Idempotent."""
        if self._closed:
            return
        self._closed = True
        if not self._writer.flush(timeout):
            logger.warning(
                "job records not all written within %.1fs; %d items still queued",
                timeout,
                self._writer.statistics().queued,
            )

    def statistics(self) -> BackgroundJobStoreStatistics:
        c = self._channel
        return BackgroundJobStoreStatistics(
            queued=len(c.queue), written=c.written, batches=c.batches, errors=c.errors
        )

    def __repr__(self) -> str:
        s = self.statistics()
        return f"BackgroundJobStore(written={s.written}, queued~{s.queued}, errors={s.errors})"
