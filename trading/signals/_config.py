"""The executor's settings: its lanes, their bounds and the load-aware sizing rule."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["ExecutorConfig", "LaneConfig", "QueueSizing"]

STRATEGIES_LANE = "strategies"
RISK_LANE = "risk"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class QueueSizing(_Frozen):
    """Load-aware queue bound for one lane (see ``next_queue_bound`` for the rule).

    Under low load (CPU below ``grow_below_cpu`` *and* memory below ``grow_below_memory``)
    the bound grows by ``step``x up to ``max_queue``; under pressure (CPU at or above
    ``shrink_above_cpu`` *or* memory at or above ``shrink_above_memory``) it shrinks by
    ``step``x down to ``min_queue``; in between it stays. Percentages are 0-100.
    """

    min_queue: int = Field(default=10, ge=1)
    max_queue: int = Field(default=10_000, ge=1)
    step: float = Field(default=2.0, gt=1.0, le=10.0)
    grow_below_cpu: float = Field(default=50.0, ge=0, le=100)
    grow_below_memory: float = Field(default=70.0, ge=0, le=100)
    shrink_above_cpu: float = Field(default=90.0, ge=0, le=100)
    shrink_above_memory: float = Field(default=90.0, ge=0, le=100)

    @model_validator(mode="after")
    def _ordered(self) -> QueueSizing:
        if self.min_queue > self.max_queue:
            raise ValueError(
                f"sizing.min_queue ({self.min_queue}) must be <= sizing.max_queue ({self.max_queue})"
            )
        if self.grow_below_cpu > self.shrink_above_cpu:
            raise ValueError(
                f"sizing.grow_below_cpu ({self.grow_below_cpu}) must be <= "
                f"shrink_above_cpu ({self.shrink_above_cpu})"
            )
        if self.grow_below_memory > self.shrink_above_memory:
            raise ValueError(
                f"sizing.grow_below_memory ({self.grow_below_memory}) must be <= "
                f"shrink_above_memory ({self.shrink_above_memory})"
            )
        return self


class LaneConfig(_Frozen):
    """A named pool of workers with its own queue bound and overflow policy.

    ``overflow``: ``reject`` refuses a submit to a full queue (submit returns None);
    ``drop_lowest`` evicts the queued task that would run last (highest priority number,
    newest within it), which ends DROPPED; a submit no more urgent than that task is
    refused instead. ``durable``: unfinished job records found at start are resubmitted
    (through the executor's resolver) instead of marked ABANDONED.
    """

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    workers: int = Field(default=10, ge=1, le=1024)
    max_queue: int = Field(default=100, ge=1)
    overflow: Literal["reject", "drop_lowest"] = "reject"
    durable: bool = False
    sizing: QueueSizing | None = None

    @model_validator(mode="after")
    def _bound_within_sizing(self) -> LaneConfig:
        s = self.sizing
        if s is not None and not s.min_queue <= self.max_queue <= s.max_queue:
            raise ValueError(
                f"lane {self.name!r}: max_queue {self.max_queue} must lie within sizing "
                f"[{s.min_queue}, {s.max_queue}]"
            )
        return self


class ExecutorConfig(_Frozen):
    """Every setting of a ``StrategyExecutor``. Durations in seconds."""

    lanes: tuple[LaneConfig, ...] = (
        LaneConfig(name=STRATEGIES_LANE, workers=10),
        LaneConfig(name=RISK_LANE, workers=2),
    )
    default_lane: str = STRATEGIES_LANE
    default_timeout: float = Field(default=30.0, gt=0)
    retry_backoff: float = Field(default=0.5, ge=0)  # first retry waits this long, then x2 each time
    retry_backoff_max: float = Field(default=30.0, ge=0)
    keep_finished: int = Field(default=10_000, ge=0)  # finished tasks kept for get_task_status
    resize_interval: float | None = Field(default=5.0, gt=0)  # seconds between load readings; None: never
    stop_timeout: float = Field(default=5.0, gt=0)  # used by ``async with``

    @model_validator(mode="after")
    def _lanes_consistent(self) -> ExecutorConfig:
        names = [lane.name for lane in self.lanes]
        if not names:
            raise ValueError("lanes: at least one lane is needed")
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"lanes: duplicate lane names {duplicates}")
        if self.default_lane not in names:
            raise ValueError(f"default_lane {self.default_lane!r} is not one of the lanes {names}")
        return self

    @classmethod
    def default(
        cls,
        *,
        max_queue_size: int = 100,
        max_concurrent_tasks: int = 10,
        default_timeout: float = 30.0,
        overflow: Literal["reject", "drop_lowest"] = "reject",
        risk_workers: int = 2,
    ) -> ExecutorConfig:
        """The desk's two lanes: ``strategies`` (``max_concurrent_tasks`` workers) and ``risk``."""
        return cls(
            lanes=(
                LaneConfig(
                    name=STRATEGIES_LANE,
                    workers=max_concurrent_tasks,
                    max_queue=max_queue_size,
                    overflow=overflow,
                ),
                LaneConfig(name=RISK_LANE, workers=risk_workers, max_queue=max_queue_size, overflow=overflow),
            ),
            default_timeout=default_timeout,
        )
