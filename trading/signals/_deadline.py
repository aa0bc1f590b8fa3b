"""One worker's timeout timer, and the withdrawal of the cancellations the executor asked for."""

from __future__ import annotations

import asyncio
from typing import Any

from trading.signals._task import _Task


def settle_cancels(task: _Task, me: asyncio.Task[Any]) -> int:
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
