"""Timing helpers shared by the benchmarks."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["time_per"]


def time_per(fn: Callable[[Any], Any], items: Sequence[Any]) -> float:
    """Seconds per call of ``fn`` over ``items``, the garbage collector off while it runs."""
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        for item in items:
            fn(item)
        return (time.perf_counter() - start) / len(items)
    finally:
        gc.enable()
