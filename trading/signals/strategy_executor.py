"""StrategyExecutor: the asyncio engine that runs every strategy pass and risk job of the desk.

It knows nothing of trading. Work goes into named **lanes** (default ``strategies`` with
10 workers and ``risk`` with 2), each a bounded priority queue with its own workers, so a
flood in one lane never delays another.

- **Priority**: lower number runs first; first-in first-out within one priority.
- **Overflow** (per lane): ``reject`` refuses the submit (``submit_task`` returns None, the
  reason is logged and counted), ``drop_lowest`` evicts the queued task that would run last
  (it ends DROPPED, logged with its name and age).
- **Timeouts**: ``asyncio.timeout()`` around each attempt (``default_timeout`` when none is
  given); a timed-out task ends TIMEOUT and its coroutine is cancelled. Plain (non-async)
  callables run in the lane's thread pool: their timeout ends the *task* but cannot
  interrupt the thread, which runs to its end in the background.
- **Dedup keys**: while a task with key K is queued or running (or waiting for a retry),
  another submit with key K is refused, in any lane.
- **Retries**: a failed or timed-out attempt is retried up to ``retries`` times after
  ``retry_backoff * 2**n`` seconds (capped), without holding a worker; the result keeps
  every attempt.
- **Job records**: a lane given a ``JobStore`` records every task (PENDING, RUNNING, final).
  At start, records left unfinished by a previous process are marked ABANDONED, or run again
  on a ``durable`` lane when the ``resolver`` gives a callable for them.
- **Results**: a task may return a ``TaskOutcome(summary, details)`` or a dict with
  ``"summary"`` (and ``"details"``) to fill its record; other values are summarised by str().
- Nothing vanishes: per lane, submitted = completed + failed + timeouts + cancelled +
  dropped + queued + running at every moment.

A worker runs an async task inline (no task per job). A worker that has run jobs for
``YIELD_EVERY_S`` without suspending yields to the event loop, so trivial jobs cannot
starve the other lanes. A coroutine that computes without awaiting blocks the whole loop:
put CPU work in a plain callable (thread pool) or await between chunks.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Mapping
from dataclasses import asdict
from datetime import timedelta
from typing import Any, Literal

from trading.clock import Clock, LiveClock
from trading.signals._checks import check_submit, is_async_callable
from trading.signals._config import ExecutorConfig
from trading.signals._lane import _Lane
from trading.signals._reports import _Reports
from trading.signals._sizing import LoadReader, LoadReading, psutil_load
from trading.signals._stats import ExecutorStatistics, FailureGroup, StrategyStatistics, percentile
from trading.signals._table import _TaskTable
from trading.signals._task import TaskResult, TaskStatus, _Task
from trading.signals.jobs import JobStore, Resolver

__all__ = ["DEFAULT_PRIORITY", "ExceptionHandler", "Resolver", "StrategyExecutor"]

logger = logging.getLogger(__name__)

DEFAULT_PRIORITY = 5

ExceptionHandler = Callable[["StrategyExecutor", dict[str, Any]], None]

_S = TaskStatus


def log_failure(executor: StrategyExecutor, context: dict[str, Any]) -> None:
    """The default exception handler: one ERROR line with the traceback."""
    logger.error("%s", context["message"], exc_info=context["exception"])


class StrategyExecutor:
    """Bounded priority lanes of asyncio workers with timeouts, dedup keys, retries and job records.

    ``StrategyExecutor(max_queue_size, max_concurrent_tasks, default_timeout)`` builds the
    desk's two lanes; pass ``config=ExecutorConfig(...)`` for anything else (then leave the
    three size arguments at their defaults). ``job_stores`` maps lane names to stores;
    ``resolver`` turns an unfinished record of a durable lane back into a callable;
    ``exception_handler(executor, context)`` is called for every task that ends FAILED
    (context keys: ``message``, ``exception``, ``task``); ``load_reader`` feeds the
    load-aware queue sizing (psutil by default).

    The executor is a front over parts that own their state: a task table (tasks by id,
    dedup keys, waiters), the reports (per-strategy tallies, failure groups) and one
    ``_Lane`` per lane (queue, workers, deadlines, retries, counters, job records).
    """

    def __init__(
        self,
        max_queue_size: int = 100,
        max_concurrent_tasks: int = 10,
        default_timeout: float = 30.0,
        *,
        overflow: Literal["reject", "drop_lowest"] = "reject",
        config: ExecutorConfig | None = None,
        clock: Clock | None = None,
        exception_handler: ExceptionHandler | None = None,
        job_stores: Mapping[str, JobStore] | None = None,
        resolver: Resolver | None = None,
        load_reader: LoadReader | None = None,
    ) -> None:
        if config is None:
            config = ExecutorConfig.default(
                max_queue_size=max_queue_size,
                max_concurrent_tasks=max_concurrent_tasks,
                default_timeout=default_timeout,
                overflow=overflow,
            )
        elif (max_queue_size, max_concurrent_tasks, default_timeout, overflow) != (100, 10, 30.0, "reject"):
            raise ValueError("StrategyExecutor: pass either config= or the size arguments, not both")
        stores = dict(job_stores or {})
        names = [lane.name for lane in config.lanes]
        unknown = sorted(set(stores) - set(names))
        if unknown:
            raise ValueError(f"job_stores: unknown lanes {unknown}; lanes: {names}")
        self._config = config
        self._clock: Clock = clock or LiveClock()
        self._resolver = resolver
        self._load_reader: LoadReader = load_reader or psutil_load
        self._table = _TaskTable(config.keep_finished)
        self._reports = _Reports(functools.partial(exception_handler or log_failure, self))
        self._lanes: dict[str, _Lane] = {
            c.name: _Lane(
                c,
                stores.get(c.name),
                table=self._table,
                reports=self._reports,
                clock=self._clock,
                retry_backoff=config.retry_backoff,
                retry_backoff_max=config.retry_backoff_max,
            )
            for c in config.lanes
        }
        self._state = "NEW"
        self._stopped = asyncio.Event()
        self._resizer: asyncio.Task[None] | None = None
        self._async_callables: dict[Any, bool] = {}

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        """Start the workers (and recover job records), then run until ``stop()``."""
        self._launch()
        try:
            await self._stopped.wait()
        except asyncio.CancelledError:
            self._abort("the task running start() was cancelled")
            raise

    async def __aenter__(self) -> StrategyExecutor:
        self._launch()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop(self._config.stop_timeout)

    def _launch(self) -> None:
        if self._state != "NEW":
            if self._state == "RUNNING":
                return
            raise RuntimeError(f"StrategyExecutor cannot start from state {self._state}")
        self._state = "RUNNING"
        for lane in self._lanes.values():
            lane.recover(self._resolver, self._config.default_timeout)
            lane.start()
        interval = self._config.resize_interval
        if interval is not None and any(lane.config.sizing for lane in self._lanes.values()):
            self._resizer = asyncio.create_task(self._resize_every(interval), name="executor-resize")
        logger.info("executor started: %s", self._lane_summary())

    async def stop(self, timeout: float = 5.0) -> bool:
        """Refuse new work, cancel queued and running tasks, wait up to ``timeout`` for the workers.

        Returns True when every worker ended in time. Threads still running plain callables
        are left to finish on their own (they cannot be interrupted).
        """
        if self._state == "STOPPED":
            return True
        workers = self._abort("stop() was called")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while workers and (remaining := deadline - loop.time()) > 0:
            _done, pending = await asyncio.wait(workers, timeout=min(remaining, 0.05))
            workers = list(pending)
            for worker in workers:  # a job that swallowed its CancelledError gets another one
                worker.cancel(msg="executor stopped: stop() was called")
        if workers:
            logger.error(
                "executor stop: %d worker(s) still running after %.1f s: %s",
                len(workers),
                timeout,
                [w.get_name() for w in workers],
            )
        return not workers

    def _abort(self, why: str) -> list[asyncio.Task[Any]]:
        """Synchronously refuse new work, cancel everything queued, ask every worker to stop."""
        if self._state == "STOPPED":
            return []
        self._state = "STOPPED"
        workers: list[asyncio.Task[Any]] = []
        if self._resizer is not None:
            self._resizer.cancel()
            workers.append(self._resizer)
        for lane in self._lanes.values():
            workers.extend(lane.close(why))
        self._stopped.set()
        logger.info("executor stopping (%s): %s", why, self._lane_summary())
        return [w for w in workers if not w.done()]

    # --- submitting ---------------------------------------------------------------------

    async def submit_task(
        self,
        name: str,
        fn: Callable[..., Any],
        /,
        *args: Any,
        timeout: float | None = None,
        priority: int = DEFAULT_PRIORITY,
        key: str | None = None,
        lane: str | None = None,
        retries: int = 0,
    ) -> str | None:
        """Queue ``fn(*args)``; the task id, or None when refused (full, duplicate key, stopped).

        Lower ``priority`` runs first. Keyword arguments for ``fn``: use ``functools.partial``.
        Bad arguments raise ``InvalidTaskError`` (ValueError) / ``InvalidTaskTypeError``
        (TypeError) and queue nothing. Never waits: the overflow policy decides at once.
        """
        return self.submit_nowait(
            name, fn, *args, timeout=timeout, priority=priority, key=key, lane=lane, retries=retries
        )

    def submit_nowait(
        self,
        name: str,
        fn: Callable[..., Any],
        /,
        *args: Any,
        timeout: float | None = None,
        priority: int = DEFAULT_PRIORITY,
        key: str | None = None,
        lane: str | None = None,
        retries: int = 0,
    ) -> str | None:
        """``submit_task`` for synchronous callers (event handlers); same rules."""
        lane_name = self._config.default_lane if lane is None else lane
        check_submit(
            name,
            fn,
            timeout=timeout,
            priority=priority,
            key=key,
            lane=lane_name,
            retries=retries,
            lanes=self._lanes.keys(),
        )
        target = self._lanes[lane_name]
        if not target.admit(name, priority, key):
            return None
        task = _Task(
            self._table.new_id(),
            name,
            fn,
            args,
            {},
            lane=lane_name,
            key=key,
            priority=priority,
            timeout=self._config.default_timeout if timeout is None else float(timeout),
            retries=retries,
            is_async=self._is_async(fn),
            created_at=self._clock.now(),
        )
        target.accept(task)
        return task.task_id

    def _is_async(self, fn: Callable[..., Any]) -> bool:
        """``is_async_callable(fn)``, remembered for the callables submitted again and again."""
        cache = self._async_callables
        try:
            return cache[fn]
        except KeyError:
            pass
        except TypeError:  # an unhashable callable: ask every time
            return is_async_callable(fn)
        if len(cache) >= 1024:
            cache.clear()
        found = cache[fn] = is_async_callable(fn)
        return found

    # --- control ------------------------------------------------------------------------

    def cancel_task(self, task_id: str) -> bool:
        """Cancel a queued (at once) or running (at its next await) task; False if unknown or finished."""
        task = self._table.get(task_id)
        if task is None or task.status.finished:
            return False
        self._lanes[task.lane].cancel(task)
        return True

    async def wait_task(self, task_id: str, timeout: float | None = None) -> TaskResult:
        """Wait until ``task_id`` has finished and return its result (``TimeoutError`` after ``timeout``)."""
        task = self._table.get(task_id)
        if task is None:
            raise KeyError(f"unknown or cleared task id {task_id!r}")
        await self._table.wait_finished(task, timeout)
        return task.to_result()

    async def join(self, timeout: float | None = None) -> None:
        """Wait until no task is queued or running in any lane (``TimeoutError`` after ``timeout``)."""
        await self._table.wait_idle(timeout)

    def clear_completed_tasks(self, max_age_hours: float = 24) -> int:
        """Forget finished tasks that ended more than ``max_age_hours`` ago; how many were forgotten."""
        if max_age_hours < 0:
            raise ValueError(f"max_age_hours must be >= 0, got {max_age_hours!r}")
        return self._table.forget_finished(self._clock.now() - timedelta(hours=max_age_hours))

    def adjust_queue_bounds(self, load: LoadReading | None = None) -> dict[str, int]:
        """Apply the load-aware sizing rule to every lane that has ``sizing``; the lanes' bounds."""
        if load is None:
            load = self._load_reader()
        return {name: lane.resize(load) for name, lane in self._lanes.items()}

    async def _resize_every(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                self.adjust_queue_bounds()
            except Exception:  # a failed load reading must not stop the desk; try again next time
                logger.warning("executor: load reading failed; queue bounds unchanged", exc_info=True)

    # --- observability ------------------------------------------------------------------

    @property
    def state(self) -> str:
        """NEW, RUNNING or STOPPED."""
        return self._state

    def get_task_status(self, task_id: str) -> TaskResult | None:
        """The task's current result, or None when unknown or already cleared."""
        task = self._table.get(task_id)
        return None if task is None else task.to_result()

    def statistics(self) -> ExecutorStatistics:
        lanes = tuple(lane.statistics() for lane in self._lanes.values())
        totals = {status.name: 0 for status in _S if status is not _S.ABANDONED}
        for s in lanes:
            totals["PENDING"] += s.queued
            totals["RUNNING"] += s.running
            totals["COMPLETED"] += s.completed
            totals["FAILED"] += s.failed
            totals["TIMEOUT"] += s.timeouts
            totals["CANCELLED"] += s.cancelled
            totals["DROPPED"] += s.dropped
        totals["ABANDONED"] = sum(s.abandoned for s in lanes)
        totals["REJECTED"] = sum(s.rejected for s in lanes)
        wait = [x for lane in self._lanes.values() for x in lane.wait_ms]
        run = [x for lane in self._lanes.values() for x in lane.run_ms]
        return ExecutorStatistics(
            running_state=self._state,
            lanes=lanes,
            totals=totals,
            queued=sum(s.queued for s in lanes),
            running=sum(s.running for s in lanes),
            submitted=sum(s.submitted for s in lanes),
            rejected=totals["REJECTED"],
            p50_wait_ms=percentile(wait, 50),
            p99_wait_ms=percentile(wait, 99),
            p50_run_ms=percentile(run, 50),
            p99_run_ms=percentile(run, 99),
        )

    def strategy_statistics(self) -> dict[str, StrategyStatistics]:
        """Per task name: runs, successes, failures, timeouts, mean and p95 duration (per attempt)."""
        return self._reports.strategy_statistics()

    def get_failed_tasks_summary(self) -> dict[str, dict[str, FailureGroup]]:
        """Tasks that ended FAILED or TIMEOUT, grouped by task name, then error class."""
        return self._reports.failed_tasks_summary()

    def get_metrics(self) -> dict[str, Any]:
        """A JSON-ready dict: ``executor`` (statistics), ``strategies`` and ``failures`` by name."""
        return {
            "executor": self.statistics().as_dict(),
            "strategies": {name: asdict(s) for name, s in self.strategy_statistics().items()},
            "failures": {
                name: {cls: group.count for cls, group in groups.items()}
                for name, groups in self.get_failed_tasks_summary().items()
            },
        }

    def _lane_summary(self) -> str:
        return ", ".join(repr(lane) for lane in self._lanes.values())

    def __repr__(self) -> str:
        return f"StrategyExecutor(state={self._state}, {self._lane_summary()})"
