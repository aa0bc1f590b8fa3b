"""The executor's reports: per-strategy tallies, failures grouped by name and error class,
and the exception handler told about every task that ends FAILED."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from trading.signals._stats import FailureGroup, StrategyStatistics, _FailureTally, _StrategyTally
from trading.signals._task import TaskStatus, _Task

logger = logging.getLogger(__name__)

_S = TaskStatus

FailureHandler = Callable[[dict[str, Any]], None]  # the executor's exception handler, bound to it


class _Reports:
    """Counted per attempt (``tally``) and per final failure (``failure``); read as frozen values."""

    def __init__(self, handler: FailureHandler) -> None:
        self._handler = handler
        self._strategies: dict[str, _StrategyTally] = {}
        self._failures: dict[tuple[str, str], _FailureTally] = {}

    def tally(self, task: _Task, status: TaskStatus, run_ms: float) -> None:
        """One attempt of ``task`` ended ``status`` after ``run_ms``."""
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

    def failure(self, task: _Task) -> None:
        """``task`` ended FAILED or TIMEOUT for good."""
        group = (task.name, task.error_class)
        tally = self._failures.get(group)
        if tally is None:
            tally = self._failures[group] = _FailureTally(*group)
        assert task.finished_at is not None
        tally.add(task.task_id, task.error_message, task.finished_at)

    def report_failure(self, task: _Task, exc: BaseException) -> None:
        """Tell the exception handler that ``task`` raised ``exc`` on its last attempt."""
        context = {
            "message": f"task {task.task_id} {task.name!r} in lane {task.lane} failed after "
            f"{task.attempt_count} attempt(s): {type(exc).__name__}: {exc}",
            "exception": exc,
            "task": task.to_result(),
        }
        try:
            self._handler(context)
        except Exception:  # a broken handler must not take a worker down; say so loudly
            logger.exception("executor exception handler failed on task %s", task.task_id)

    def strategy_statistics(self) -> dict[str, StrategyStatistics]:
        return {name: tally.freeze() for name, tally in sorted(self._strategies.items())}

    def failed_tasks_summary(self) -> dict[str, dict[str, FailureGroup]]:
        summary: dict[str, dict[str, FailureGroup]] = {}
        for (name, error_class), tally in sorted(self._failures.items()):
            summary.setdefault(name, {})[error_class] = tally.freeze()
        return summary

    def __repr__(self) -> str:
        return f"_Reports(strategies={len(self._strategies)}, failure_groups={len(self._failures)})"
