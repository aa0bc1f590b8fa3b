"""The executor's reporting half (status, statistics, metrics, failures) and its small helpers."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from trading.clock import Clock
from trading.signals._lane import _Lane
from trading.signals._sizing import LoadReading, next_queue_bound
from trading.signals._stats import (
    ExecutorStatistics,
    FailureGroup,
    StrategyStatistics,
    _FailureTally,
    _StrategyTally,
    percentile,
)
from trading.signals._task import Attempt, TaskResult, TaskStatus, _Task
from trading.signals.jobs import JobRecord

if TYPE_CHECKING:
    from trading.signals.strategy_executor import StrategyExecutor

logger = logging.getLogger(__name__)

_S = TaskStatus


def log_failure(executor: StrategyExecutor, context: dict[str, Any]) -> None:
    """The default exception handler: one ERROR line with the traceback."""
    logger.error("%s", context["message"], exc_info=context["exception"])


def attempt_of(task: _Task, status: TaskStatus, error_class: str, message: str, backoff: float) -> Attempt:
    assert task.started_at is not None and task.finished_at is not None  # set by _run/_schedule_retry
    return Attempt(
        number=task.attempt_count,
        status=status,
        started_at=task.started_at,
        finished_at=task.finished_at,
        duration_ms=(task.end_perf - task.start_perf) * 1000.0,
        error_class=error_class,
        error_message=message,
        backoff_s=backoff,
    )


def resize_lanes(lanes: Iterable[_Lane], load: LoadReading) -> dict[str, int]:
    bounds = {}
    for lane in lanes:
        sizing = lane.config.sizing
        if sizing is not None:
            new = next_queue_bound(lane.bound, sizing, load)
            if new != lane.bound:
                logger.info(
                    "lane %s queue bound %d -> %d (cpu %.0f%%, memory %.0f%%)",
                    lane.name,
                    lane.bound,
                    new,
                    load.cpu_percent,
                    load.memory_percent,
                )
                lane.bound = new
        bounds[lane.name] = lane.bound
    return bounds


def unfinished(
    lane: _Lane, resolver: Callable[[JobRecord], Callable[[], Any] | None] | None
) -> Iterator[tuple[JobRecord, Callable[[], Any] | None]]:
    """Records ``lane``'s store holds as PENDING/RUNNING, each with a callable to rerun it, or None."""
    if lane.store is None:
        return
    try:
        records = lane.store.unfinished(lane.name)
    except Exception:  # a store outage must not stop the desk from starting
        lane.store_errors += 1
        logger.warning("lane %s: could not read unfinished job records", lane.name, exc_info=True)
        return
    for record in sorted(records, key=lambda r: r.created_at):
        fn = None
        if lane.config.durable and resolver is not None:
            try:
                fn = resolver(record)
            except Exception:  # an unresolvable record is abandoned, the others still recover
                logger.warning(
                    "lane %s: resolver failed for job %s %r",
                    lane.name,
                    record.task_id,
                    record.name,
                    exc_info=True,
                )
            if fn is not None and not callable(fn):
                logger.warning("lane %s: resolver gave a non-callable for job %s", lane.name, record.task_id)
                fn = None
        yield record, fn


def abandon(lane: _Lane, record: JobRecord, now: datetime) -> None:
    lane.abandoned += 1
    if lane.store is None:
        return
    try:
        lane.store.record(
            record.with_status(
                _S.ABANDONED.value,
                finished_at=now,
                error_class="Abandoned",
                error_message=f"the process ended while the task was {record.status}",
            )
        )
    except Exception:  # counted and logged; recovery goes on with the other records
        lane.store_errors += 1
        logger.warning("lane %s: could not mark job %s ABANDONED", lane.name, record.task_id, exc_info=True)


class _ExecutorReports:
    """Task table, per-strategy and per-failure tallies, and every read-only view of them."""

    _lanes: dict[str, _Lane]
    _clock: Clock
    _handler: Callable[[Any, dict[str, Any]], None]
    _state: str

    def __init__(self) -> None:
        self._tasks: dict[str, _Task] = {}
        self._strategies: dict[str, _StrategyTally] = {}
        self._failures: dict[tuple[str, str], _FailureTally] = {}

    # --- tallies (called by the executor) ------------------------------------------------

    def _tally(self, task: _Task, status: TaskStatus, run_ms: float) -> None:
        tally = self._strategies.get(task.name)
        if tally is None:
            tally = self._strategies[task.name] = _StrategyTally(task.name)
        tally.runs += 1
        tally.total_ms += run_ms
        tally.durations.append(run_ms)
        if status is _S.COMPLETED:
            tally.successes += 1
        elif status is _S.FAILED:
            tally.failures += 1
        elif status is _S.TIMEOUT:
            tally.timeouts += 1
        else:
            tally.cancelled += 1

    def _failure(self, task: _Task) -> None:
        group = (task.name, task.error_class)
        tally = self._failures.get(group)
        if tally is None:
            tally = self._failures[group] = _FailureTally(*group)
        assert task.finished_at is not None
        tally.add(task.task_id, task.error_message, task.finished_at)

    def _report_failure(self, task: _Task, exc: BaseException) -> None:
        context = {
            "message": f"task {task.task_id} {task.name!r} in lane {task.lane} failed after "
            f"{task.attempt_count} attempt(s): {type(exc).__name__}: {exc}",
            "exception": exc,
            "task": task.to_result(),
        }
        try:
            self._handler(self, context)
        except Exception:  # a broken handler must not take a worker down; say so loudly
            logger.exception("executor exception handler failed on task %s", task.task_id)

    # --- reading ------------------------------------------------------------------------

    def get_task_status(self, task_id: str) -> TaskResult | None:
        """The task's current result, or None when unknown or already cleared."""
        task = self._tasks.get(task_id)
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
        return {name: tally.freeze() for name, tally in sorted(self._strategies.items())}

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

    def get_failed_tasks_summary(self) -> dict[str, dict[str, FailureGroup]]:
        """Tasks that ended FAILED or TIMEOUT, grouped by task name, then error class."""
        summary: dict[str, dict[str, FailureGroup]] = {}
        for (name, error_class), tally in sorted(self._failures.items()):
            summary.setdefault(name, {})[error_class] = tally.freeze()
        return summary

    def clear_completed_tasks(self, max_age_hours: float = 24) -> int:
        """Forget finished tasks that ended more than ``max_age_hours`` ago; how many were forgotten."""
        if max_age_hours < 0:
            raise ValueError(f"max_age_hours must be >= 0, got {max_age_hours!r}")
        cutoff = self._clock.now() - timedelta(hours=max_age_hours)
        old = [
            tid
            for tid, t in self._tasks.items()
            if t.status.finished and t.finished_at is not None and t.finished_at <= cutoff
        ]
        for tid in old:
            del self._tasks[tid]
        return len(old)
