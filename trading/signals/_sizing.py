"""Load-aware queue bounds: the rule, and the psutil reading it uses by default."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import psutil

from trading.signals._config import QueueSizing

__all__ = ["LoadReader", "LoadReading", "next_queue_bound", "psutil_load"]


@dataclass(frozen=True, slots=True)
class LoadReading:
    """System load in percent (0-100)."""

    cpu_percent: float
    memory_percent: float


LoadReader = Callable[[], LoadReading]


def psutil_load() -> LoadReading:
    """CPU use since the previous call (non-blocking) and memory in use, from psutil."""
    return LoadReading(psutil.cpu_percent(interval=None), psutil.virtual_memory().percent)


def next_queue_bound(current: int, sizing: QueueSizing, load: LoadReading) -> int:
    """The rule: shrink under pressure, grow under low load, else stay; always within limits.

    - pressure (CPU >= ``shrink_above_cpu`` or memory >= ``shrink_above_memory``):
      ``ceil(current / step)``, at least ``min_queue``;
    - low load (CPU < ``grow_below_cpu`` and memory < ``grow_below_memory``):
      ``floor(current * step)``, at most ``max_queue``;
    - otherwise ``current``, clamped into ``[min_queue, max_queue]``.

    Shrinking never evicts: tasks already queued stay, new submits are refused (or
    displace lower-priority ones) until the queue is back under the bound.
    """
    if load.cpu_percent >= sizing.shrink_above_cpu or load.memory_percent >= sizing.shrink_above_memory:
        target = math.ceil(current / sizing.step)
    elif load.cpu_percent < sizing.grow_below_cpu and load.memory_percent < sizing.grow_below_memory:
        target = math.floor(current * sizing.step)
    else:
        target = current
    return max(sizing.min_queue, min(sizing.max_queue, target))
