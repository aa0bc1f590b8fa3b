"""Job records: what a lane's job store keeps about every task it ran.

The executor knows only the ``JobStore`` protocol; ``trading.storage`` implements it
on SQLite (``JobRepository``). ``InMemoryJobStore`` is the reference implementation
used where no database is wanted.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

__all__ = ["InMemoryJobStore", "JobRecord", "JobStore", "Resolver"]


@dataclass(frozen=True, slots=True, kw_only=True)
class JobRecord:
    task_id: str
    name: str
    lane: str
    status: str  # a TaskStatus value, PENDING through ABANDONED
    key: str | None = None
    priority: int = 0
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    duration_ms: float | None = None
    attempts: int = 0
    result_summary: str = ""
    error_class: str = ""
    error_message: str = ""
    details: dict[str, Any] = field(default_factory=dict)  # e.g. a risk job's actions, value before/after

    def with_status(self, status: str, **changes: Any) -> JobRecord:
        return replace(self, status=status, **changes)


@runtime_checkable
class JobStore(Protocol):
    def record(self, job: JobRecord) -> None:
        """Insert or replace the record with ``job.task_id``. Must not block for long."""
        ...

    def unfinished(self, lane: str) -> list[JobRecord]:
        """Records of ``lane`` still PENDING or RUNNING (left by a process that died)."""
        ...


Resolver = Callable[[JobRecord], Callable[[], Any] | None]
"""Turns an unfinished record of a durable lane back into a callable to run again (None: abandon it)."""


class InMemoryJobStore:
    """A thread-safe dict of records, newest last."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[str, JobRecord] = {}

    def record(self, job: JobRecord) -> None:
        with self._lock:
            self._jobs[job.task_id] = job

    def unfinished(self, lane: str) -> list[JobRecord]:
        with self._lock:
            return [j for j in self._jobs.values() if j.lane == lane and j.status in ("PENDING", "RUNNING")]

    def get(self, task_id: str) -> JobRecord | None:
        with self._lock:
            return self._jobs.get(task_id)

    def all(self) -> list[JobRecord]:
        with self._lock:
            return list(self._jobs.values())

    def __len__(self) -> int:
        return len(self._jobs)
