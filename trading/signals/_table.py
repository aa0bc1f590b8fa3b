"""The executor's task table: every task by id, the dedup keys held, and who waits for what.

Shared by every lane: a dedup key holds across lanes, and ``join()`` waits for all of
them. A task enters with ``add()`` when a lane accepts it and leaves the active count
with ``retire()`` when it ends; the newest ``keep_finished`` finished tasks stay
readable by id.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import deque
from datetime import datetime

from trading.signals._task import _Task


class _TaskTable:
    def __init__(self, keep_finished: int) -> None:
        self._keep = keep_finished
        self._id_prefix = f"T{uuid.uuid4().hex[:8]}-"
        self._next_id = 0
        self._tasks: dict[str, _Task] = {}
        self._keys: dict[str, str] = {}  # dedup key -> task id holding it
        self._finished: deque[str] = deque()  # ids of finished tasks, oldest first
        self._task_waiters: dict[str, list[asyncio.Future[None]]] = {}
        self._idle_waiters: list[asyncio.Future[None]] = []
        self.active = 0  # queued + running (or waiting for a retry), all lanes

    def new_id(self) -> str:
        self._next_id += 1
        return f"{self._id_prefix}{self._next_id}"

    def get(self, task_id: str) -> _Task | None:
        return self._tasks.get(task_id)

    def key_holder(self, key: str) -> str | None:
        """The id of the unfinished task holding dedup ``key``, or None."""
        return self._keys.get(key)

    def add(self, task: _Task) -> None:
        """Register an accepted task (it holds its key until it is retired)."""
        self._tasks[task.task_id] = task
        if task.key is not None:
            self._keys[task.key] = task.task_id
        self.active += 1

    def retire(self, task: _Task) -> None:
        """``task`` has finished: free its key, keep it readable for a while, wake its waiters."""
        if task.key is not None and self._keys.get(task.key) == task.task_id:
            del self._keys[task.key]
        finished = self._finished
        finished.append(task.task_id)
        if len(finished) > self._keep:
            self._tasks.pop(finished.popleft(), None)
        self.active -= 1
        if self._task_waiters:
            for waiter in self._task_waiters.pop(task.task_id, ()):
                if not waiter.done():
                    waiter.set_result(None)
        if self.active == 0 and self._idle_waiters:
            for waiter in self._idle_waiters:
                if not waiter.done():
                    waiter.set_result(None)
            self._idle_waiters.clear()

    async def wait_finished(self, task: _Task, timeout: float | None) -> None:
        """Return once ``task`` has finished (``TimeoutError`` after ``timeout``)."""
        if task.status.finished:
            return
        waiter = asyncio.get_running_loop().create_future()
        self._task_waiters.setdefault(task.task_id, []).append(waiter)
        async with asyncio.timeout(timeout):
            await waiter

    async def wait_idle(self, timeout: float | None) -> None:
        """Return once no task is active (``TimeoutError`` after ``timeout``)."""
        if self.active == 0:
            return
        waiter = asyncio.get_running_loop().create_future()
        self._idle_waiters.append(waiter)
        async with asyncio.timeout(timeout):
            await waiter

    def forget_finished(self, cutoff: datetime) -> int:
        """Forget finished tasks that ended at or before ``cutoff``; how many were forgotten."""
        old = [
            tid
            for tid, t in self._tasks.items()
            if t.status.finished and t.finished_at is not None and t.finished_at <= cutoff
        ]
        for tid in old:
            del self._tasks[tid]
        return len(old)

    def __len__(self) -> int:
        return len(self._tasks)

    def __repr__(self) -> str:
        return f"_TaskTable(tasks={len(self._tasks)}, active={self.active}, keys={len(self._keys)})"
