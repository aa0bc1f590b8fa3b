"""One lane: its bounded priority queue, its workers, and the accounting of every way a task ends.

A lane admits a task (queue bound, overflow policy, and the dedup keys of the executor's
shared task table), runs it on one of its own workers (a deadline per attempt, retries
after a backoff without holding a worker, plain callables in the lane's thread pool),
writes it to the lane's job store, and counts how it ended. At start it recovers the
records a previous process left unfinished in that store.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from trading.clock import Clock
from trading.signals._checks import is_async_callable
from trading.signals._config import LaneConfig
from trading.signals._deadline import _DeadlineWatch, settle_cancels
from trading.signals._queue import _BucketQueue
from trading.signals._reports import _Reports
from trading.signals._sizing import LoadReading, next_queue_bound
from trading.signals._stats import SAMPLE_WINDOW, LaneStatistics, percentile
from trading.signals._table import _TaskTable
from trading.signals._task import TaskStatus, _Task
from trading.signals.jobs import JobRecord, JobStore, Resolver

logger = logging.getLogger(__name__)

WARN_EVERY_S = 10.0  # a repeated surprise (refusal, store error) is logged at WARNING at most this often
YIELD_EVERY_S = 0.0005  # a worker that ran jobs this long without suspending yields to the loop

_S = TaskStatus
_PENDING, _RUNNING = _S.PENDING, _S.RUNNING


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
    """A named pool of workers over one bounded queue; counts satisfy ``LaneStatistics``' invariant.

    ``table`` and ``reports`` are shared by every lane of one executor: the lane adds
    each task it accepts to the table and retires it there when it ends; it tallies every
    attempt and every final failure in the reports.
    """

    def __init__(
        self,
        config: LaneConfig,
        store: JobStore | None,
        *,
        table: _TaskTable,
        reports: _Reports,
        clock: Clock,
        retry_backoff: float,
        retry_backoff_max: float,
    ) -> None:
        self.config = config
        self.name = config.name
        self.bound = config.max_queue
        self.store = store
        self.workers: set[asyncio.Task[None]] = set()
        self.pending = 0  # queued + backoff
        self.running = 0
        self.submitted = self.completed = self.failed = self.timeouts = 0
        self.cancelled = self.dropped = self.rejected = self.deduplicated = self.retried = 0
        self.abandoned = self.resubmitted = self.store_errors = 0
        self.last_rejection = ""
        self.wait_ms: deque[float] = deque(maxlen=SAMPLE_WINDOW)
        self.run_ms: deque[float] = deque(maxlen=SAMPLE_WINDOW)
        self._table = table
        self._reports = reports
        self._clock = clock
        self._retry_backoff = retry_backoff
        self._retry_backoff_max = retry_backoff_max
        self._drop_lowest = config.overflow == "drop_lowest"
        self._queue = _BucketQueue()
        self._backoff: set[_Task] = set()  # PENDING tasks waiting for a retry timer
        self._waiters: deque[asyncio.Future[None]] = deque()  # idle workers
        self._pool: ThreadPoolExecutor | None = None
        self._closed = False
        self._refusals = _Throttle()
        self._store_failures = _Throttle()

    # --- admitting ----------------------------------------------------------------------

    def admit(self, name: str, priority: int, key: str | None) -> bool:
        """Whether a new task may enter; makes room under ``drop_lowest``."""
        if self._closed:
            self.refuse(name, "the executor is stopped")
            return False
        if key is not None and (holder := self._table.key_holder(key)) is not None:
            self.refuse(name, f"key {key!r} is held by queued or running task {holder}", duplicate=True)
            return False
        if self.pending < self.bound:
            return True
        if not self._drop_lowest:
            self.refuse(name, f"queue full ({self.pending}/{self.bound}), overflow policy reject")
            return False
        victim = self._queue.peek_last()
        if victim is None or victim.priority <= priority:
            self.refuse(
                name,
                f"queue full ({self.pending}/{self.bound}) and no queued task has a lower priority "
                f"than {priority}",
            )
            return False
        self._queue.pop_last()
        age = (self._clock.now() - victim.created_at).total_seconds()
        logger.warning(
            "lane %s dropped task %s %r (priority %d, queued %.3f s) for %r (priority %d)",
            self.name,
            victim.task_id,
            victim.name,
            victim.priority,
            age,
            name,
            priority,
        )
        self._finish(
            victim,
            _S.DROPPED,
            "Dropped",
            f"evicted from a full queue by {name!r} (priority {priority})",
            in_queue=False,
        )
        return True

    def accept(self, task: _Task) -> None:
        """Queue an admitted task."""
        self._table.add(task)
        self.submitted += 1
        self.pending += 1
        self._enqueue(task)
        if self.store is not None:
            self._record(task)

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

    def _enqueue(self, task: _Task) -> None:
        task.enqueued_perf = time.perf_counter()
        self._queue.push(task)
        waiters = self._waiters
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    # --- lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        """Start the lane's workers."""
        for n in range(self.config.workers):
            worker = asyncio.create_task(self._work(), name=f"executor-{self.name}-{n}")
            worker.add_done_callback(self._worker_done)
            self.workers.add(worker)

    def close(self, why: str) -> list[asyncio.Task[None]]:
        """Refuse new work, cancel every queued task, ask every worker to stop; the workers."""
        self._closed = True
        for task in self._queue.drain():
            self._finish(task, _S.CANCELLED, "CancelledError", f"executor stopped: {why}", in_queue=False)
        for task in list(self._backoff):
            self._finish(task, _S.CANCELLED, "CancelledError", f"executor stopped: {why}")
        for worker in self.workers:
            worker.cancel(msg=f"executor stopped: {why}")
        if self._pool is not None:  # a callable already running in a thread cannot be interrupted
            self._pool.shutdown(wait=False, cancel_futures=True)
        return list(self.workers)

    def cancel(self, task: _Task) -> None:
        """Cancel an unfinished task of this lane: a queued one at once, a running one at its next await."""
        if task.status is _PENDING:
            self._finish(task, _S.CANCELLED, "CancelledError", "cancelled by cancel_task()")
        elif task.cancel_reason is None:
            task.cancel_reason = "cancelled by cancel_task()"
            task.worker.cancel(msg=f"cancel_task({task.task_id})")

    def _worker_done(self, worker: asyncio.Task[None]) -> None:
        self.workers.discard(worker)
        if not worker.cancelled() and worker.exception() is not None and not self._closed:
            logger.error("executor worker %s died", worker.get_name(), exc_info=worker.exception())

    def _thread_pool(self) -> ThreadPoolExecutor:
        """Threads for plain callables, created on first use: two per worker, so a callable
        that timed out (and keeps its thread until it returns) does not hold up the next."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(
                max_workers=2 * self.config.workers, thread_name_prefix=f"lane-{self.name}"
            )
        return self._pool

    # --- running ------------------------------------------------------------------------

    async def _work(self) -> None:
        me = asyncio.current_task()
        assert me is not None
        watch = _DeadlineWatch(me)
        queue, waiters = self._queue, self._waiters
        loop = watch.loop
        perf = time.perf_counter
        resumed = perf()
        try:
            while True:
                task = queue.pop()
                if task is None:
                    waiter = loop.create_future()
                    waiters.append(waiter)
                    await waiter
                    resumed = perf()
                    continue
                await self._run(task, me, watch)
                if self._closed:
                    return
                if perf() - resumed > YIELD_EVERY_S:
                    await asyncio.sleep(0)
                    resumed = perf()
        finally:
            watch.close()

    async def _run(self, task: _Task, me: asyncio.Task[Any], watch: _DeadlineWatch) -> None:
        task.move(_RUNNING)
        self.pending -= 1
        self.running += 1
        task.worker = me
        task.started_at = self._clock.now()
        task.start_perf = start = time.perf_counter()
        self.wait_ms.append((start - task.enqueued_perf) * 1000.0)
        if self.store is not None:
            self._record(task)
        watch.arm(task)
        try:
            if task.is_async:
                value = await task.fn(*task.args)
            else:
                value = await watch.loop.run_in_executor(self._thread_pool(), task.fn, *task.args)
                if asyncio.iscoroutine(value) or asyncio.isfuture(value):
                    value = await value
        except asyncio.CancelledError:
            watch.task = None
            if settle_cancels(task, me):  # someone else (stop) cancelled the worker: never swallowed
                self._finish(task, _S.CANCELLED, "CancelledError", "executor stopped while it ran")
                raise
            if task.cancel_reason is not None:
                self._finish(task, _S.CANCELLED, "CancelledError", task.cancel_reason)
            else:
                self._attempt_failed(task, _S.TIMEOUT, None, f"timed out after {task.timeout:g} s")
        except Exception as exc:
            watch.task = None
            settle_cancels(task, me)
            self._attempt_failed(task, _S.FAILED, exc, str(exc))
        else:
            watch.task = None
            if task.timed_out or task.cancel_reason is not None:
                settle_cancels(task, me)
                logger.warning(
                    "task %s %r returned after being cancelled (%s); kept as COMPLETED",
                    task.task_id,
                    task.name,
                    task.cancel_reason or "timeout",
                )
            task.set_outcome(value)
            self._finish(task, _S.COMPLETED)

    def _attempt_failed(
        self, task: _Task, status: TaskStatus, exc: BaseException | None, message: str
    ) -> None:
        error_class = "TimeoutError" if exc is None else type(exc).__name__
        if task.attempt_count <= task.retries and not self._closed:
            self._schedule_retry(task, status, error_class, message)
            return
        self._finish(task, status, error_class, message)
        if exc is not None:
            self._reports.report_failure(task, exc)
        else:
            logger.warning(
                "task %s %r in lane %s timed out after %g s (attempt %d)",
                task.task_id,
                task.name,
                self.name,
                task.timeout,
                task.attempt_count,
            )

    def _schedule_retry(self, task: _Task, status: TaskStatus, error_class: str, message: str) -> None:
        n = task.attempt_count
        delay = min(self._retry_backoff_max, self._retry_backoff * 2 ** (n - 1))
        task.end_perf = end = time.perf_counter()
        task.finished_at = self._clock.now()
        run_ms = (end - task.start_perf) * 1000.0
        self.run_ms.append(run_ms)
        self._reports.tally(task, status, run_ms)
        attempt = task.retried_attempt(status, error_class, message, delay)
        task.attempts = [*(task.attempts or ()), attempt]
        task.move(_PENDING)
        task.started_at = task.finished_at = None
        task.start_perf = task.end_perf = 0.0
        task.worker = None
        task.timed_out = False
        self.running -= 1
        self.pending += 1
        self.retried += 1
        self._backoff.add(task)
        task.retry_handle = asyncio.get_running_loop().call_later(delay, self._requeue, task)
        logger.info(
            "task %s %r attempt %d ended %s (%s: %s); retry in %.3f s",
            task.task_id,
            task.name,
            n,
            status.name,
            error_class,
            message,
            delay,
        )
        if self.store is not None:
            self._record(task)

    def _requeue(self, task: _Task) -> None:
        task.retry_handle = None
        self._backoff.discard(task)
        if task.status is _PENDING:
            self._enqueue(task)

    def _finish(
        self,
        task: _Task,
        status: TaskStatus,
        error_class: str = "",
        message: str = "",
        *,
        in_queue: bool = True,
    ) -> None:
        previous = task.status
        task.move(status)
        task.finished_at = self._clock.now()
        task.error_class = error_class
        task.error_message = message
        if previous is _RUNNING:
            task.end_perf = end = time.perf_counter()
            self.running -= 1
            run_ms = (end - task.start_perf) * 1000.0
            self.run_ms.append(run_ms)
            self._reports.tally(task, status, run_ms)
            task.worker = None
        else:
            self.pending -= 1
            if task.retry_handle is not None:
                task.retry_handle.cancel()
                task.retry_handle = None
                self._backoff.discard(task)
            elif in_queue:
                self._queue.discard(task)
        if status is _S.COMPLETED:
            self.completed += 1
        elif status is _S.FAILED:
            self.failed += 1
            self._reports.failure(task)
        elif status is _S.TIMEOUT:
            self.timeouts += 1
            self._reports.failure(task)
        elif status is _S.CANCELLED:
            self.cancelled += 1
        else:
            self.dropped += 1
        task.args = ()
        if self.store is not None:
            self._record(task)
        self._table.retire(task)

    # --- job records --------------------------------------------------------------------

    def recover(self, resolver: Resolver | None, timeout: float) -> None:
        """Mark the records left unfinished by a previous process ABANDONED, or (durable lane,
        when ``resolver`` gives a callable) queue them again with ``timeout``."""
        for record, fn in self._unfinished(resolver):
            if fn is not None and self.admit(record.name, record.priority, record.key):
                task = _Task(
                    record.task_id,
                    record.name,
                    fn,
                    (),
                    {},
                    lane=self.name,
                    key=record.key,
                    priority=record.priority,
                    timeout=timeout,
                    retries=0,
                    is_async=is_async_callable(fn),
                    created_at=record.created_at,
                )
                self.accept(task)
                self.resubmitted += 1
            else:
                self._abandon(record, self._clock.now())
        if self.abandoned or self.resubmitted:
            logger.warning(
                "lane %s: %d unfinished job(s) from a previous run marked ABANDONED, %d resubmitted",
                self.name,
                self.abandoned,
                self.resubmitted,
            )

    def _unfinished(self, resolver: Resolver | None) -> Iterator[tuple[JobRecord, Callable[[], Any] | None]]:
        """Records the store holds as PENDING/RUNNING, each with a callable to rerun it, or None."""
        if self.store is None:
            return
        try:
            records = self.store.unfinished(self.name)
        except Exception:  # a store outage must not stop the desk from starting
            self.store_errors += 1
            logger.warning("lane %s: could not read unfinished job records", self.name, exc_info=True)
            return
        for record in sorted(records, key=lambda r: r.created_at):
            fn = None
            if self.config.durable and resolver is not None:
                try:
                    fn = resolver(record)
                except Exception:  # an unresolvable record is abandoned, the others still recover
                    logger.warning(
                        "lane %s: resolver failed for job %s %r",
                        self.name,
                        record.task_id,
                        record.name,
                        exc_info=True,
                    )
                if fn is not None and not callable(fn):
                    logger.warning(
                        "lane %s: resolver gave a non-callable for job %s", self.name, record.task_id
                    )
                    fn = None
            yield record, fn

    def _abandon(self, record: JobRecord, now: datetime) -> None:
        self.abandoned += 1
        if self.store is None:
            return
        try:
            self.store.record(
                record.with_status(
                    _S.ABANDONED.value,
                    finished_at=now,
                    error_class="Abandoned",
                    error_message=f"the process ended while the task was {record.status}",
                )
            )
        except Exception:  # counted and logged; recovery goes on with the other records
            self.store_errors += 1
            logger.warning(
                "lane %s: could not mark job %s ABANDONED", self.name, record.task_id, exc_info=True
            )

    def _record(self, task: _Task) -> None:
        """Write ``task`` to the job store; a store failure is logged and counted, never raised."""
        if self.store is None:
            return
        try:
            self.store.record(task.to_record())
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

    # --- reading and sizing -------------------------------------------------------------

    def resize(self, load: LoadReading) -> int:
        """Apply the load-aware sizing rule (when the lane has ``sizing``); the queue bound."""
        sizing = self.config.sizing
        if sizing is not None:
            new = next_queue_bound(self.bound, sizing, load)
            if new != self.bound:
                logger.info(
                    "lane %s queue bound %d -> %d (cpu %.0f%%, memory %.0f%%)",
                    self.name,
                    self.bound,
                    new,
                    load.cpu_percent,
                    load.memory_percent,
                )
                self.bound = new
        return self.bound

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
