"""``TaskChains``: the venue broker's background work on the event loop, one chain per key.

The ``Broker`` protocol's methods return at once; what they ask of the venue runs later as a
coroutine. Coroutines given the same key (an order id) run one after the other in the order
given (a cancel waits for the submit it follows); different keys run concurrently. Work
given before the loop runs (a desk being built, restoring its transactions) is queued and
started by ``start``. A coroutine that raises is logged with what it was doing; ``stop``
cancels everything still running and waits for it to end, at most ``STOP_WAIT`` seconds.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable

__all__ = ["STOP_WAIT", "TaskChains"]

logger = logging.getLogger(__name__)

Work = Callable[[], Awaitable[None]]

STOP_WAIT = 5.0  # seconds cancelled work may take to end before ``stop`` goes on without it


class TaskChains:
    def __init__(self, name: str) -> None:
        self._name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queued: list[tuple[str, Work, str]] = []
        self._last: dict[str, asyncio.Task[None]] = {}
        self._running: set[asyncio.Task[None]] = set()
        self.started = self.failed = 0

    @property
    def loop(self) -> asyncio.AbstractEventLoop | None:
        return self._loop

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        queued, self._queued = self._queued, []
        for key, work, what in queued:
            self.run(key, work, what)

    def run(self, key: str, work: Work, what: str) -> None:
        """Run ``work()`` after the work already given under ``key``."""
        loop = self._loop
        if loop is None or loop.is_closed():
            self._queued.append((key, work, what))
            return
        previous = self._last.get(key)
        task = loop.create_task(self._chained(previous, work, what), name=f"{self._name}:{what}")
        self.started += 1
        self._last[key] = task
        self._running.add(task)
        task.add_done_callback(functools.partial(self._done, key))

    def _done(self, key: str, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        if self._last.get(key) is task:
            del self._last[key]

    async def _chained(self, previous: asyncio.Task[None] | None, work: Work, what: str) -> None:
        if previous is not None and not previous.done():
            await asyncio.wait([previous])
        try:
            await work()
        except asyncio.CancelledError:
            raise
        except Exception:  # one failed request must not stop the others; it is logged with its purpose
            self.failed += 1
            logger.exception("%s: %s failed", self._name, what)

    def busy(self, key: str) -> bool:
        """Work under ``key`` is queued or running."""
        return key in self._last or any(k == key for k, _, _ in self._queued)

    async def idle(self) -> None:
        """Wait until no work is running (new work given meanwhile is waited for too)."""
        while self._running:
            await asyncio.wait(list(self._running))

    async def stop(self) -> None:
        self._queued.clear()
        tasks = list(self._running)
        for task in tasks:
            task.cancel()
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=STOP_WAIT)
        for task in pending:  # a stop must not hang on work that takes its time to end
            logger.warning(
                "%s: %s did not end within %.0f s of its cancel; stopping without it",
                self._name,
                task.get_name(),
                STOP_WAIT,
            )

    def __len__(self) -> int:
        return len(self._running) + len(self._queued)

    def __repr__(self) -> str:
        return f"TaskChains({self._name!r}, running={len(self._running)}, queued={len(self._queued)})"
