"""One lane: its queue, counters, samples, waiting workers, thread pool and job store."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor

from trading.signals._config import LaneConfig
from trading.signals._queue import _BucketQueue
from trading.signals._stats import SAMPLE_WINDOW, LaneStatistics, percentile
from trading.signals._task import _Task
from trading.signals.jobs import JobRecord, JobStore

logger = logging.getLogger(__name__)

WARN_EVERY_S = 10.0  # a repeated surprise (refusal, store error) is logged at WARNING at most this often


def job_record(task: _Task) -> JobRecord:
    return JobRecord(
        task_id=task.task_id,
        name=task.name,
        lane=task.lane,
        status=task.status.value,
        key=task.key,
        priority=task.priority,
        created_at=task.created_at,
        started_at=task.started_at,
        finished_at=task.finished_at,
        duration_ms=(task.end_perf - task.start_perf) * 1000.0 if task.end_perf else None,
        attempts=task.attempt_count,
        result_summary=task.summary,
        error_class=task.error_class,
        error_message=task.error_message,
        details=dict(task.details),
    )


class _Throttle:
    """WARNING for the first of a kind and then at most every ``WARN_EVERY_S``; DEBUG between."""

    __slots__ = ("_last", "_suppressed")

    def __init__(self) -> None:
        self._last = -WARN_EVERY_S
        self._suppressed = 0

    def level(self) -> tuple[int, int]:
        """The level for this occurrence and how many were logged at DEBUG since the last WARNING."""
        now = time.monotonic()
        if now - self._last >= WARN_EVERY_S:
            self._last, suppressed, self._suppressed = now, self._suppressed, 0
            return logging.WARNING, suppressed
        self._suppressed += 1
        return logging.DEBUG, 0


class _Lane:
    def __init__(self, config: LaneConfig, store: JobStore | None) -> None:
        self.config = config
        self.name = config.name
        self.bound = config.max_queue
        self.drop_lowest = config.overflow == "drop_lowest"
        self.store = store
        self.queue = _BucketQueue()
        self.backoff: set[_Task] = set()  # PENDING tasks waiting for a retry timer
        self.pending = 0  # queued + backoff
        self.running = 0
        self.submitted = self.completed = self.failed = self.timeouts = 0
        self.cancelled = self.dropped = self.rejected = self.deduplicated = self.retried = 0
        self.abandoned = self.resubmitted = self.store_errors = 0
        self.last_rejection = ""
        self.wait_ms: deque[float] = deque(maxlen=SAMPLE_WINDOW)
        self.run_ms: deque[float] = deque(maxlen=SAMPLE_WINDOW)
        self.workers: set[asyncio.Task[None]] = set()
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._pool: ThreadPoolExecutor | None = None
        self._refusals = _Throttle()
        self._store_failures = _Throttle()

    # --- queue and workers ------------------------------------------------------------

    def enqueue(self, task: _Task) -> None:
        task.enqueued_perf = time.perf_counter()
        self.queue.push(task)
        waiters = self._waiters
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    async def wait_for_work(self) -> None:
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        await waiter

    def pool(self) -> ThreadPoolExecutor:
        """Threads for plain callables, created on first use: two per worker, so a callable
        that timed out (and keeps its thread until it returns) does not hold up the next."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(
                max_workers=2 * self.config.workers, thread_name_prefix=f"lane-{self.name}"
            )
        return self._pool

    def shutdown_pool(self) -> None:
        """Refuse new thread work; a callable already running in a thread cannot be interrupted."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)

    # --- reporting --------------------------------------------------------------------

    def refuse(self, name: str, reason: str, *, duplicate: bool = False) -> None:
        self.last_rejection = reason
        if duplicate:  # one risk job per account at a time: routine, not a surprise
            self.deduplicated += 1
            logger.debug("lane %s refused task %r: %s", self.name, name, reason)
            return
        self.rejected += 1
        level, suppressed = self._refusals.level()
        if suppressed:
            logger.log(
                level,
                "lane %s refused task %r: %s (%d more refusals since the last warning)",
                self.name,
                name,
                reason,
                suppressed,
            )
        else:
            logger.log(level, "lane %s refused task %r: %s", self.name, name, reason)

    def record(self, task: _Task) -> None:
        """Write ``task`` to the lane's job store; a store failure is logged and counted, never raised."""
        if self.store is None:
            return
        try:
            self.store.record(job_record(task))
        except Exception:  # the task itself must not suffer from a store outage
            self.store_errors += 1
            level, suppressed = self._store_failures.level()
            logger.log(
                level,
                "lane %s: job store failed to record task %s (%s); %d earlier failures not shown",
                self.name,
                task.task_id,
                task.status.name,
                suppressed,
                exc_info=True,
            )

    def statistics(self) -> LaneStatistics:
        wait, run = list(self.wait_ms), list(self.run_ms)
        return LaneStatistics(
            lane=self.name,
            workers=self.config.workers,
            queued=self.pending,
            running=self.running,
            max_queue=self.bound,
            submitted=self.submitted,
            completed=self.completed,
            failed=self.failed,
            timeouts=self.timeouts,
            cancelled=self.cancelled,
            dropped=self.dropped,
            p50_wait_ms=percentile(wait, 50),
            p99_wait_ms=percentile(wait, 99),
            p50_run_ms=percentile(run, 50),
            p99_run_ms=percentile(run, 99),
            rejected=self.rejected,
            deduplicated=self.deduplicated,
            retried=self.retried,
            abandoned=self.abandoned,
            resubmitted=self.resubmitted,
            store_errors=self.store_errors,
            last_rejection=self.last_rejection,
        )

    def __repr__(self) -> str:
        return (
            f"{self.name}: {self.running}/{self.config.workers} running, {self.pending}/{self.bound} queued"
        )
