"""A task's lifecycle (a transition table), its public result and the executor's internal entry."""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from trading.errors import InvalidStateTransition
from trading.signals.jobs import JobRecord

__all__ = ["TASK_STATE_TABLE", "Attempt", "TaskOutcome", "TaskResult", "TaskStatus"]

SUMMARY_CHARS = 200  # a plain return value is summarised as its str(), cut to this length


class TaskStatus(enum.Enum):
    PENDING = "PENDING"  # queued, or waiting for its retry backoff
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"  # the callable raised
    TIMEOUT = "TIMEOUT"
    CANCELLED = "CANCELLED"  # by cancel_task() or stop()
    DROPPED = "DROPPED"  # evicted from a full drop_lowest queue
    ABANDONED = "ABANDONED"  # found unfinished in a job store after a restart

    targets: tuple[TaskStatus, ...]  # TASK_STATE_TABLE[self] as a tuple, set below
    finished: bool  # no way out of this status, set below


_S = TaskStatus
TASK_STATE_TABLE: dict[TaskStatus, frozenset[TaskStatus]] = {
    _S.PENDING: frozenset({_S.RUNNING, _S.CANCELLED, _S.DROPPED, _S.ABANDONED}),
    # RUNNING -> PENDING is a retry after a failed or timed-out attempt.
    _S.RUNNING: frozenset({_S.COMPLETED, _S.FAILED, _S.TIMEOUT, _S.CANCELLED, _S.PENDING, _S.ABANDONED}),
    _S.COMPLETED: frozenset(),
    _S.FAILED: frozenset(),
    _S.TIMEOUT: frozenset(),
    _S.CANCELLED: frozenset(),
    _S.DROPPED: frozenset(),
    _S.ABANDONED: frozenset(),
}


for _status, _targets in TASK_STATE_TABLE.items():
    _status.targets = tuple(_targets)
    _status.finished = not _targets


@dataclass(frozen=True, slots=True)
class TaskOutcome:
    """What a task may return to put a summary and details into its job record.

    A task may equally return a dict with a ``"summary"`` key (and optionally a
    ``"details"`` dict); any other value is summarised as ``str(value)``. ``details``
    goes to the job store, so keep it JSON-serialisable.
    """

    summary: str
    details: Mapping[str, Any] = field(default_factory=dict)
    value: Any = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Attempt:
    """One run of a task. ``backoff_s`` is the delay before the next attempt (0 for the last)."""

    number: int
    status: TaskStatus
    started_at: datetime
    finished_at: datetime
    duration_ms: float
    error_class: str = ""
    error_message: str = ""
    backoff_s: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskResult:
    """A read-only view of one task: status, timings, result or error, every attempt."""

    task_id: str
    name: str
    lane: str
    key: str | None
    priority: int
    status: TaskStatus
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    wait_ms: float | None  # queue wait before the last attempt started
    run_ms: float | None  # duration of the last attempt
    attempts: tuple[Attempt, ...]
    result: Any
    summary: str
    details: Mapping[str, Any]
    error_class: str
    error_message: str

    @property
    def finished(self) -> bool:
        return self.status.finished


class _Task:
    """The executor's mutable entry for one task. Only the executor touches it."""

    __slots__ = (
        "args",
        "attempts",
        "cancel_reason",
        "created_at",
        "details",
        "end_perf",
        "enqueued_perf",
        "error_class",
        "error_message",
        "finished_at",
        "fn",
        "is_async",
        "key",
        "kwargs",
        "lane",
        "name",
        "priority",
        "result",
        "retries",
        "retry_handle",
        "seq",
        "start_perf",
        "started_at",
        "status",
        "summary",
        "task_id",
        "timed_out",
        "timeout",
        "worker",
    )

    def __init__(
        self,
        task_id: str,
        name: str,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        *,
        lane: str,
        key: str | None,
        priority: int,
        timeout: float,
        retries: int,
        is_async: bool,
        created_at: datetime,
    ) -> None:
        self.task_id = task_id
        self.name = name
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self.lane = lane
        self.key = key
        self.priority = priority
        self.timeout = timeout
        self.retries = retries
        self.is_async = is_async
        self.created_at = created_at
        self.status = TaskStatus.PENDING
        self.seq = 0
        self.started_at: datetime | None = None
        self.finished_at: datetime | None = None
        self.enqueued_perf = 0.0
        self.start_perf = 0.0
        self.end_perf = 0.0
        self.attempts: list[Attempt] | None = None  # earlier attempts, only once a retry happened
        self.result: Any = None
        self.summary = ""
        self.details: Mapping[str, Any] = {}
        self.error_class = ""
        self.error_message = ""
        self.retry_handle: Any = None  # asyncio.TimerHandle while waiting for a retry
        self.worker: Any = None  # the worker asyncio.Task while RUNNING
        self.cancel_reason: str | None = None  # set by cancel_task() on a RUNNING task
        self.timed_out = False  # set when the deadline cancelled the running attempt

    def move(self, target: TaskStatus) -> None:
        if target not in self.status.targets:  # a tuple scan by identity: no Enum.__hash__ per move
            raise InvalidStateTransition("task", self.status, target)
        self.status = target

    @property
    def attempt_count(self) -> int:
        earlier = len(self.attempts) if self.attempts else 0
        return earlier + (1 if self.started_at is not None else 0)

    def set_outcome(self, value: Any) -> None:
        """Keep ``value`` and derive the record's summary and details from it."""
        if isinstance(value, TaskOutcome):
            self.result = value.value if value.value is not None else value
            self.summary = value.summary[:SUMMARY_CHARS]
            self.details = dict(value.details)
            return
        self.result = value
        if isinstance(value, dict) and "summary" in value:
            self.summary = str(value["summary"])[:SUMMARY_CHARS]
            details = value.get("details")
            self.details = dict(details) if isinstance(details, Mapping) else {}
        elif value is not None:
            self.summary = str(value)[:SUMMARY_CHARS]

    def retried_attempt(self, status: TaskStatus, error_class: str, message: str, backoff: float) -> Attempt:
        """The attempt that just ended ``status`` and is followed by a retry after ``backoff`` seconds."""
        assert self.started_at is not None and self.finished_at is not None  # set by the lane's run
        return Attempt(
            number=self.attempt_count,
            status=status,
            started_at=self.started_at,
            finished_at=self.finished_at,
            duration_ms=(self.end_perf - self.start_perf) * 1000.0,
            error_class=error_class,
            error_message=message,
            backoff_s=backoff,
        )

    def last_attempt(self) -> Attempt | None:
        if self.started_at is None:
            return None
        return Attempt(
            number=self.attempt_count,
            status=self.status,
            started_at=self.started_at,
            finished_at=self.finished_at or self.started_at,
            duration_ms=(self.end_perf - self.start_perf) * 1000.0 if self.end_perf else 0.0,
            error_class=self.error_class,
            error_message=self.error_message,
        )

    def to_result(self) -> TaskResult:
        earlier = tuple(self.attempts) if self.attempts else ()
        last = self.last_attempt() if self.status.finished else None
        started = self.start_perf > 0.0
        return TaskResult(
            task_id=self.task_id,
            name=self.name,
            lane=self.lane,
            key=self.key,
            priority=self.priority,
            status=self.status,
            created_at=self.created_at,
            started_at=self.started_at,
            finished_at=self.finished_at,
            wait_ms=(self.start_perf - self.enqueued_perf) * 1000.0 if started else None,
            run_ms=(self.end_perf - self.start_perf) * 1000.0 if started and self.end_perf else None,
            attempts=earlier + ((last,) if last is not None else ()),
            result=self.result,
            summary=self.summary,
            details=dict(self.details),
            error_class=self.error_class,
            error_message=self.error_message,
        )

    def to_record(self) -> JobRecord:
        """What a job store keeps about this task, as it stands now."""
        return JobRecord(
            task_id=self.task_id,
            name=self.name,
            lane=self.lane,
            status=self.status.value,
            key=self.key,
            priority=self.priority,
            created_at=self.created_at,
            started_at=self.started_at,
            finished_at=self.finished_at,
            duration_ms=(self.end_perf - self.start_perf) * 1000.0 if self.end_perf else None,
            attempts=self.attempt_count,
            result_summary=self.summary,
            error_class=self.error_class,
            error_message=self.error_message,
            details=dict(self.details),
        )

    def __repr__(self) -> str:
        return f"_Task({self.task_id!r}, {self.name!r}, lane={self.lane!r}, {self.status.name})"
