"""The executor's running half: workers, one attempt, retries, and the bookkeeping of every end."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from trading.clock import Clock
from trading.signals import _executor_base as _base
from trading.signals._checks import is_async_callable
from trading.signals._config import ExecutorConfig
from trading.signals._executor_base import _ExecutorReports
from trading.signals._lane import _Lane
from trading.signals._task import TaskStatus, _Task
from trading.signals.jobs import JobRecord

logger = logging.getLogger(__name__)

YIELD_EVERY_S = 0.0005  # a worker that ran jobs this long without suspending yields to the loop

_S = TaskStatus
_PENDING, _RUNNING = _S.PENDING, _S.RUNNING


def _settle_cancels(task: _Task, me: asyncio.Task[Any]) -> int:
    """Withdraw the worker cancellations the executor requested for ``task`` (timeout,
    cancel_task); the number of cancellation requests left, i.e. from someone else."""
    left = me.cancelling()
    for _ in range(task.timed_out + (task.cancel_reason is not None)):
        left = me.uncancel()
    return left


class _DeadlineWatch:
    """One worker's timeout timer, with ``asyncio.timeout()`` semantics at a lower cost.

    ``asyncio.timeout()`` schedules and cancels one timer per task. This watch keeps a
    single timer per worker and re-arms it only when a task's deadline is earlier than
    the pending timer: a fire for an earlier task's deadline re-arms for the current
    one. When the current task's deadline is reached it sets ``task.timed_out`` and
    cancels the worker; the worker withdraws that cancellation with ``uncancel()``, so a
    cancellation from anyone else still propagates (the CPython 86296 flaw of
    ``wait_for`` cannot happen).
    """

    __slots__ = ("deadline", "handle", "loop", "task", "when", "worker")

    def __init__(self, worker: asyncio.Task[Any]) -> None:
        self.worker = worker
        self.loop = asyncio.get_running_loop()
        self.task: _Task | None = None
        self.deadline = 0.0
        self.handle: asyncio.TimerHandle | None = None
        self.when = 0.0

    def arm(self, task: _Task) -> None:
        self.task = task
        self.deadline = deadline = self.loop.time() + task.timeout
        if self.handle is None or self.when > deadline:
            if self.handle is not None:
                self.handle.cancel()
            self.when = deadline
            self.handle = self.loop.call_at(deadline, self._fire)

    def _fire(self) -> None:
        self.handle = None
        task = self.task
        if task is None:
            return
        if self.deadline <= self.when:
            task.timed_out = True
            self.task = None
            self.worker.cancel(msg=f"task {task.task_id} timed out after {task.timeout:g} s")
        else:
            self.when = self.deadline
            self.handle = self.loop.call_at(self.deadline, self._fire)

    def close(self) -> None:
        if self.handle is not None:
            self.handle.cancel()
            self.handle = None


class _TaskRunner(_ExecutorReports):
    """Admits tasks, runs them from the lanes' queues, accounts for every way a task ends,
    and recovers a lane's unfinished job records at start."""

    _config: ExecutorConfig
    _clock: Clock
    _state: str
    _keys: dict[str, str]
    _finished: deque[str]
    _active: int
    _task_waiters: dict[str, list[asyncio.Future[None]]]
    _idle_waiters: list[asyncio.Future[None]]
    _resolver: Callable[[JobRecord], Callable[[], Any] | None] | None

    def _admit(self, lane: _Lane, name: str, priority: int, key: str | None) -> bool:
        """Whether a new task may enter ``lane``; makes room under ``drop_lowest``."""
        if self._state == "STOPPED":
            lane.refuse(name, "the executor is stopped")
            return False
        if key is not None and key in self._keys:
            lane.refuse(
                name, f"key {key!r} is held by queued or running task {self._keys[key]}", duplicate=True
            )
            return False
        if lane.pending < lane.bound:
            return True
        if not lane.drop_lowest:
            lane.refuse(name, f"queue full ({lane.pending}/{lane.bound}), overflow policy reject")
            return False
        victim = lane.queue.peek_last()
        if victim is None or victim.priority <= priority:
            lane.refuse(
                name,
                f"queue full ({lane.pending}/{lane.bound}) and no queued task has a lower priority "
                f"than {priority}",
            )
            return False
        lane.queue.pop_last()
        age = (self._clock.now() - victim.created_at).total_seconds()
        logger.warning(
            "lane %s dropped task %s %r (priority %d, queued %.3f s) for %r (priority %d)",
            lane.name,
            victim.task_id,
            victim.name,
            victim.priority,
            age,
            name,
            priority,
        )
        self._finish(
            lane,
            victim,
            _S.DROPPED,
            "Dropped",
            f"evicted from a full queue by {name!r} (priority {priority})",
            in_queue=False,
        )
        return True

    def _accept(self, lane: _Lane, task: _Task) -> None:
        self._tasks[task.task_id] = task
        if task.key is not None:
            self._keys[task.key] = task.task_id
        lane.submitted += 1
        lane.pending += 1
        self._active += 1
        lane.enqueue(task)
        if lane.store is not None:
            lane.record(task)

    # --- running ------------------------------------------------------------------------

    async def _work(self, lane: _Lane) -> None:
        me = asyncio.current_task()
        assert me is not None
        watch = _DeadlineWatch(me)
        perf = time.perf_counter
        resumed = perf()
        try:
            while True:
                task = lane.queue.pop()
                if task is None:
                    await lane.wait_for_work()
                    resumed = perf()
                    continue
                await self._run(lane, task, me, watch)
                if self._state != "RUNNING":
                    return
                if perf() - resumed > YIELD_EVERY_S:
                    await asyncio.sleep(0)
                    resumed = perf()
        finally:
            watch.close()

    async def _run(self, lane: _Lane, task: _Task, me: asyncio.Task[Any], watch: _DeadlineWatch) -> None:
        task.move(_RUNNING)
        lane.pending -= 1
        lane.running += 1
        task.worker = me
        task.started_at = self._clock.now()
        task.start_perf = start = time.perf_counter()
        lane.wait_ms.append((start - task.enqueued_perf) * 1000.0)
        if lane.store is not None:
            lane.record(task)
        watch.arm(task)
        try:
            if task.is_async:
                value = await task.fn(*task.args)
            else:
                value = await watch.loop.run_in_executor(lane.pool(), task.fn, *task.args)
                if asyncio.iscoroutine(value) or asyncio.isfuture(value):
                    value = await value
        except asyncio.CancelledError:
            watch.task = None
            if _settle_cancels(task, me):  # someone else (stop) cancelled the worker: never swallowed
                self._finish(lane, task, _S.CANCELLED, "CancelledError", "executor stopped while it ran")
                raise
            if task.cancel_reason is not None:
                self._finish(lane, task, _S.CANCELLED, "CancelledError", task.cancel_reason)
            else:
                self._attempt_failed(lane, task, _S.TIMEOUT, None, f"timed out after {task.timeout:g} s")
        except Exception as exc:
            watch.task = None
            _settle_cancels(task, me)
            self._attempt_failed(lane, task, _S.FAILED, exc, str(exc))
        else:
            watch.task = None
            if task.timed_out or task.cancel_reason is not None:
                _settle_cancels(task, me)
                logger.warning(
                    "task %s %r returned after being cancelled (%s); kept as COMPLETED",
                    task.task_id,
                    task.name,
                    task.cancel_reason or "timeout",
                )
            task.set_outcome(value)
            self._finish(lane, task, _S.COMPLETED)

    def _attempt_failed(
        self, lane: _Lane, task: _Task, status: TaskStatus, exc: BaseException | None, message: str
    ) -> None:
        error_class = "TimeoutError" if exc is None else type(exc).__name__
        if task.attempt_count <= task.retries and self._state == "RUNNING":
            self._schedule_retry(lane, task, status, error_class, message)
            return
        self._finish(lane, task, status, error_class, message)
        if exc is not None:
            self._report_failure(task, exc)
        else:
            logger.warning(
                "task %s %r in lane %s timed out after %g s (attempt %d)",
                task.task_id,
                task.name,
                lane.name,
                task.timeout,
                task.attempt_count,
            )

    def _schedule_retry(
        self, lane: _Lane, task: _Task, status: TaskStatus, error_class: str, message: str
    ) -> None:
        n = task.attempt_count
        delay = min(self._config.retry_backoff_max, self._config.retry_backoff * 2 ** (n - 1))
        task.end_perf = end = time.perf_counter()
        task.finished_at = self._clock.now()
        run_ms = (end - task.start_perf) * 1000.0
        lane.run_ms.append(run_ms)
        self._tally(task, status, run_ms)
        attempt = _base.attempt_of(task, status, error_class, message, delay)
        task.attempts = [*(task.attempts or ()), attempt]
        task.move(_PENDING)
        task.started_at = task.finished_at = None
        task.start_perf = task.end_perf = 0.0
        task.worker = None
        task.timed_out = False
        lane.running -= 1
        lane.pending += 1
        lane.retried += 1
        lane.backoff.add(task)
        task.retry_handle = asyncio.get_running_loop().call_later(delay, self._requeue, lane, task)
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
        if lane.store is not None:
            lane.record(task)

    def _requeue(self, lane: _Lane, task: _Task) -> None:
        task.retry_handle = None
        lane.backoff.discard(task)
        if task.status is _PENDING:
            lane.enqueue(task)

    def _finish(
        self,
        lane: _Lane,
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
            lane.running -= 1
            run_ms = (end - task.start_perf) * 1000.0
            lane.run_ms.append(run_ms)
            self._tally(task, status, run_ms)
            task.worker = None
        else:
            lane.pending -= 1
            if task.retry_handle is not None:
                task.retry_handle.cancel()
                task.retry_handle = None
                lane.backoff.discard(task)
            elif in_queue:
                lane.queue.discard(task)
        if status is _S.COMPLETED:
            lane.completed += 1
        elif status is _S.FAILED:
            lane.failed += 1
            self._failure(task)
        elif status is _S.TIMEOUT:
            lane.timeouts += 1
            self._failure(task)
        elif status is _S.CANCELLED:
            lane.cancelled += 1
        else:
            lane.dropped += 1
        task.args = ()
        if task.key is not None and self._keys.get(task.key) == task.task_id:
            del self._keys[task.key]
        if lane.store is not None:
            lane.record(task)
        self._retire(task)

    def _retire(self, task: _Task) -> None:
        finished = self._finished
        finished.append(task.task_id)
        if len(finished) > self._config.keep_finished:
            self._tasks.pop(finished.popleft(), None)
        self._active -= 1
        if self._task_waiters:
            for waiter in self._task_waiters.pop(task.task_id, ()):
                if not waiter.done():
                    waiter.set_result(None)
        if self._active == 0 and self._idle_waiters:
            for waiter in self._idle_waiters:
                if not waiter.done():
                    waiter.set_result(None)
            self._idle_waiters.clear()

    def _recover(self, lane: _Lane) -> None:
        for record, fn in _base.unfinished(lane, self._resolver):
            if fn is not None and self._admit(lane, record.name, record.priority, record.key):
                task = _Task(
                    record.task_id,
                    record.name,
                    fn,
                    (),
                    {},
                    lane=lane.name,
                    key=record.key,
                    priority=record.priority,
                    timeout=self._config.default_timeout,
                    retries=0,
                    is_async=is_async_callable(fn),
                    created_at=record.created_at,
                )
                self._accept(lane, task)
                lane.resubmitted += 1
            else:
                _base.abandon(lane, record, self._clock.now())
        if lane.abandoned or lane.resubmitted:
            logger.warning(
                "lane %s: %d unfinished job(s) from a previous run marked ABANDONED, %d resubmitted",
                lane.name,
                lane.abandoned,
                lane.resubmitted,
            )
