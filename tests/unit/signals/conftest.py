"""Fixtures for the executor tests: started executors that are always stopped, and gates."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from trading.signals import ExecutorConfig, LaneConfig, StrategyExecutor


def one_lane(workers: int = 1, max_queue: int = 100, **lane: Any) -> ExecutorConfig:
    """An executor config with the single lane ``work``; the sizing timer off."""
    extra = {
        k: lane.pop(k)
        for k in ("default_timeout", "retry_backoff", "retry_backoff_max", "keep_finished")
        if k in lane
    }
    return ExecutorConfig(
        lanes=(LaneConfig(name="work", workers=workers, max_queue=max_queue, **lane),),
        default_lane="work",
        resize_interval=None,
        **extra,
    )


class Gate:
    """An async task body that reports when it started and waits until opened."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.opened = asyncio.Event()

    async def __call__(self, value: Any = None) -> Any:
        self.started.set()
        await self.opened.wait()
        return value


StartExecutor = Callable[..., Awaitable[StrategyExecutor]]


@pytest.fixture
async def start_executor() -> AsyncIterator[StartExecutor]:
    """``await start_executor(**kwargs)``: a started executor, stopped at teardown."""
    made: list[StrategyExecutor] = []

    async def start(**kwargs: Any) -> StrategyExecutor:
        executor = StrategyExecutor(**kwargs)
        made.append(executor)
        await executor.__aenter__()
        return executor

    yield start
    for executor in made:
        assert await executor.stop(5.0)
