"""What the executor counts: per lane, per strategy, per failure class; read as frozen values."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = ["ExecutorStatistics", "FailureGroup", "LaneStatistics", "StrategyStatistics"]

SAMPLE_WINDOW = 2048  # wait/run samples kept per lane for the percentiles
STRATEGY_WINDOW = 512  # durations kept per strategy for its p95


def percentile(samples: Iterable[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0-100) of ``samples``; 0.0 when there are none."""
    ordered = sorted(samples)
    if not ordered:
        return 0.0
    rank = max(1, math.ceil(q / 100.0 * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True, slots=True, kw_only=True)
class LaneStatistics:
    """One lane. The first fields carry the names of ``trading.snapshot.LaneView``.

    Invariant, at every moment: ``submitted == completed + failed + timeouts + cancelled
    + dropped + queued + running``. ``rejected`` submits were never accepted and are not
    in ``submitted``; ``queued`` includes tasks waiting for a retry backoff.
    """

    lane: str
    workers: int
    queued: int
    running: int
    max_queue: int
    submitted: int
    completed: int
    failed: int
    timeouts: int
    cancelled: int
    dropped: int
    p50_wait_ms: float
    p99_wait_ms: float
    p50_run_ms: float
    p99_run_ms: float
    rejected: int = 0
    deduplicated: int = 0  # refused because a task with the same key was queued or running
    retried: int = 0
    abandoned: int = 0  # unfinished records found at start and marked ABANDONED
    resubmitted: int = 0  # unfinished records found at start and run again (durable lane)
    store_errors: int = 0
    last_rejection: str = ""

    @property
    def accounted(self) -> int:
        """The right-hand side of the invariant; equals ``submitted``."""
        return (
            self.completed
            + self.failed
            + self.timeouts
            + self.cancelled
            + self.dropped
            + self.queued
            + self.running
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class StrategyStatistics:
    """Per task name, counted per attempt. Durations in milliseconds."""

    name: str
    runs: int
    successes: int
    failures: int
    timeouts: int
    cancelled: int
    mean_ms: float
    p95_ms: float


@dataclass(frozen=True, slots=True, kw_only=True)
class FailureGroup:
    """Failures of one task name with one error class (timeouts have class ``TimeoutError``)."""

    name: str
    error_class: str
    count: int
    last_message: str
    last_at: datetime
    last_task_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutorStatistics:
    """Every lane, totals per status and percentiles over all lanes."""

    running_state: str  # NEW / RUNNING / STOPPED
    lanes: tuple[LaneStatistics, ...]
    totals: dict[str, int] = field(default_factory=dict)  # TaskStatus name -> count, plus "REJECTED"
    queued: int = 0
    running: int = 0
    submitted: int = 0
    rejected: int = 0
    p50_wait_ms: float = 0.0
    p99_wait_ms: float = 0.0
    p50_run_ms: float = 0.0
    p99_run_ms: float = 0.0

    def lane(self, name: str) -> LaneStatistics:
        for lane in self.lanes:
            if lane.lane == name:
                return lane
        raise KeyError(f"no lane {name!r}; lanes: {[lane.lane for lane in self.lanes]}")

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: ``{"lanes": {name: {...}}, "totals": {...}, ...}``."""
        lanes = {
            lane.lane: {f: getattr(lane, f) for f in LaneStatistics.__dataclass_fields__}
            for lane in self.lanes
        }
        return {
            "running_state": self.running_state,
            "lanes": lanes,
            "totals": dict(self.totals),
            "queued": self.queued,
            "running": self.running,
            "submitted": self.submitted,
            "rejected": self.rejected,
            "p50_wait_ms": self.p50_wait_ms,
            "p99_wait_ms": self.p99_wait_ms,
            "p50_run_ms": self.p50_run_ms,
            "p99_run_ms": self.p99_run_ms,
        }


class _StrategyTally:
    __slots__ = ("cancelled", "durations", "failures", "name", "runs", "successes", "timeouts", "total_ms")

    def __init__(self, name: str) -> None:
        self.name = name
        self.runs = self.successes = self.failures = self.timeouts = self.cancelled = 0
        self.total_ms = 0.0
        self.durations: deque[float] = deque(maxlen=STRATEGY_WINDOW)

    def freeze(self) -> StrategyStatistics:
        return StrategyStatistics(
            name=self.name,
            runs=self.runs,
            successes=self.successes,
            failures=self.failures,
            timeouts=self.timeouts,
            cancelled=self.cancelled,
            mean_ms=self.total_ms / self.runs if self.runs else 0.0,
            p95_ms=percentile(self.durations, 95),
        )


class _FailureTally:
    __slots__ = ("count", "error_class", "last_at", "last_message", "last_task_ids", "name")

    def __init__(self, name: str, error_class: str) -> None:
        self.name = name
        self.error_class = error_class
        self.count = 0
        self.last_message = ""
        self.last_at: datetime | None = None
        self.last_task_ids: deque[str] = deque(maxlen=5)

    def add(self, task_id: str, message: str, at: datetime) -> None:
        self.count += 1
        self.last_message = message
        self.last_at = at
        self.last_task_ids.append(task_id)

    def freeze(self) -> FailureGroup:
        assert self.last_at is not None  # set by the first add()
        return FailureGroup(
            name=self.name,
            error_class=self.error_class,
            count=self.count,
            last_message=self.last_message,
            last_at=self.last_at,
            last_task_ids=tuple(self.last_task_ids),
        )
