"""Signals: the StrategyExecutor that runs strategy passes and risk jobs, and its job records."""

from trading.signals._config import ExecutorConfig, LaneConfig, QueueSizing
from trading.signals._errors import InvalidTaskError, InvalidTaskTypeError
from trading.signals._sizing import LoadReader, LoadReading, next_queue_bound, psutil_load
from trading.signals._stats import ExecutorStatistics, FailureGroup, LaneStatistics, StrategyStatistics
from trading.signals._task import TASK_STATE_TABLE, Attempt, TaskOutcome, TaskResult, TaskStatus
from trading.signals.jobs import InMemoryJobStore, JobRecord, JobStore
from trading.signals.strategy_executor import DEFAULT_PRIORITY, ExceptionHandler, Resolver, StrategyExecutor

__all__ = [
    "DEFAULT_PRIORITY",
    "TASK_STATE_TABLE",
    "Attempt",
    "ExceptionHandler",
    "ExecutorConfig",
    "ExecutorStatistics",
    "FailureGroup",
    "InMemoryJobStore",
    "InvalidTaskError",
    "InvalidTaskTypeError",
    "JobRecord",
    "JobStore",
    "LaneConfig",
    "LaneStatistics",
    "LoadReader",
    "LoadReading",
    "QueueSizing",
    "Resolver",
    "StrategyExecutor",
    "StrategyStatistics",
    "TaskOutcome",
    "TaskResult",
    "TaskStatus",
    "next_queue_bound",
    "psutil_load",
]
