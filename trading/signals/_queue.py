"""A priority queue of buckets: one FIFO deque per priority, priorities kept sorted.

Lower priority number first, first-in first-out within one priority. Push and pop are
O(1) (plus O(log p) when a priority level appears or empties, p = distinct levels), so a
task submitted behind 10,000 others costs the same as behind none. Removal is lazy: a
cancelled entry stays in its deque until it reaches an end and is skipped, while
``len()`` counts live entries only.
"""

from __future__ import annotations

import bisect
from collections import deque

from trading.signals._task import TaskStatus, _Task

_PENDING = TaskStatus.PENDING


class _BucketQueue:
    __slots__ = ("_buckets", "_levels", "_live", "_seq")

    def __init__(self) -> None:
        self._buckets: dict[int, deque[_Task]] = {}
        self._levels: list[int] = []  # sorted priorities that have a bucket
        self._live = 0
        self._seq = 0

    def __len__(self) -> int:
        return self._live

    def push(self, task: _Task) -> None:
        self._seq += 1
        task.seq = self._seq
        bucket = self._buckets.get(task.priority)
        if bucket is None:
            bucket = self._buckets[task.priority] = deque()
            bisect.insort(self._levels, task.priority)
        bucket.append(task)
        self._live += 1

    def discard(self, task: _Task) -> None:
        """Count ``task`` (already moved out of PENDING) as gone; its slot is skipped later."""
        self._live -= 1

    def pop(self) -> _Task | None:
        """The next task to run, or None when no live task is queued."""
        levels = self._levels
        while levels:
            priority = levels[0]
            bucket = self._buckets[priority]
            while bucket:
                task = bucket.popleft()
                if task.status is _PENDING:
                    self._live -= 1
                    if not bucket:
                        self._remove_level(priority)
                    return task
            self._remove_level(priority)
        return None

    def peek_last(self) -> _Task | None:
        """The live task that would run last (highest priority number, newest), not removed."""
        levels = self._levels
        while levels:
            priority = levels[-1]
            bucket = self._buckets[priority]
            while bucket:
                task = bucket[-1]
                if task.status is _PENDING:
                    return task
                bucket.pop()  # a lazily removed entry: forget it now
            self._remove_level(priority)
        return None

    def pop_last(self) -> _Task | None:
        task = self.peek_last()
        if task is not None:
            bucket = self._buckets[task.priority]
            bucket.pop()
            self._live -= 1
            if not bucket:
                self._remove_level(task.priority)
        return task

    def drain(self) -> list[_Task]:
        """Remove and return every live task, in run order."""
        live = [t for p in self._levels for t in self._buckets[p] if t.status is _PENDING]
        self._buckets.clear()
        self._levels.clear()
        self._live = 0
        return live

    def _remove_level(self, priority: int) -> None:
        del self._buckets[priority]
        index = bisect.bisect_left(self._levels, priority)
        del self._levels[index]

    def __repr__(self) -> str:
        return f"_BucketQueue(live={self._live}, levels={self._levels})"
