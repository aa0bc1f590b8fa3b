"""``RequestLane``: blocking venue calls run off the event loop, in order, retried with backoff.

A lane is one worker thread: calls given to it run one after the other in the order they
were given (an order's submit before its cancel), while the event loop goes on. A call that
fails with a retryable ``VenueError`` (rate limited, server error, no answer) is tried again
after an exponential backoff with jitter (the venue's ``retry_after`` when it gave one),
the wait spent on the loop so the lane serves other calls meanwhile. ``RetryPolicy`` says how
many attempts (0: until it succeeds or the caller gives up). Before the loop runs (a desk
being built) ``call_sync`` does the same on the caller's thread.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from trading.broker.venue.errors import VenueError

__all__ = ["LaneStatistics", "RequestLane", "RetryNotice", "RetryPolicy"]

logger = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    attempts: int = 5  # 0: no limit
    initial: float = 0.2  # seconds before the second attempt
    maximum: float = 5.0
    multiplier: float = 2.0
    jitter: float = 0.2  # +- this fraction of the delay, so clients do not retry in step

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        base = min(self.maximum, self.initial * self.multiplier ** max(0, attempt - 1))
        spread = base * self.jitter
        return max(0.0, base + (rng or random).uniform(-spread, spread))

    def exhausted(self, attempt: int) -> bool:
        return self.attempts > 0 and attempt >= self.attempts


@dataclass(frozen=True, slots=True)
class RetryNotice:
    """Told to an ``on_retry`` callback before each wait."""

    what: str
    attempt: int
    error: VenueError
    delay: float


@dataclass(frozen=True, slots=True)
class LaneStatistics:
    name: str
    calls: int
    retries: int
    failures: int
    in_flight: int


class RequestLane:
    def __init__(self, name: str) -> None:
        self.name = name
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"venue-{name}")
        self._calls = self._retries = self._failures = self._in_flight = 0
        self._closed = False

    async def call(
        self,
        fn: Callable[[], T],
        *,
        what: str,
        policy: RetryPolicy,
        retry_fn: Callable[[], T] | None = None,
        on_retry: Callable[[RetryNotice], None] | None = None,
    ) -> T:
        """Run ``fn`` on the lane's thread; retry a retryable ``VenueError`` per ``policy``
        (``retry_fn`` instead of ``fn`` from the second attempt on: e.g. "look the order up by
        its client id, submit only if it is not there"). Raises the last ``VenueError``."""
        loop = asyncio.get_running_loop()
        attempt = 0
        current = fn
        while True:
            attempt += 1
            self._calls += 1
            self._in_flight += 1
            try:
                return await loop.run_in_executor(self._executor, current)
            except VenueError as exc:
                if not exc.retryable or policy.exhausted(attempt):
                    self._failures += 1
                    raise
                delay = exc.retry_after if exc.retry_after is not None else policy.delay(attempt)
                self._note_retry(what, attempt, exc, delay, on_retry)
            finally:
                self._in_flight -= 1
            await asyncio.sleep(delay)
            current = retry_fn or fn

    def call_sync(
        self, fn: Callable[[], T], *, what: str, policy: RetryPolicy, retry_fn: Callable[[], T] | None = None
    ) -> T:
        """``call`` for a caller without a running loop (a desk being built): blocks."""
        attempt = 0
        current = fn
        while True:
            attempt += 1
            self._calls += 1
            try:
                return current()
            except VenueError as exc:
                if not exc.retryable or policy.exhausted(attempt):
                    self._failures += 1
                    raise
                delay = exc.retry_after if exc.retry_after is not None else policy.delay(attempt)
                self._note_retry(what, attempt, exc, delay, None)
            time.sleep(delay)
            current = retry_fn or fn

    def _note_retry(
        self,
        what: str,
        attempt: int,
        exc: VenueError,
        delay: float,
        on_retry: Callable[[RetryNotice], None] | None,
    ) -> None:
        self._retries += 1
        level = logging.WARNING if attempt == 1 else logging.DEBUG
        logger.log(level, "%s: attempt %d failed (%s); retrying in %.2f s", what, attempt, exc, delay)
        if on_retry is not None:
            on_retry(RetryNotice(what, attempt, exc, delay))

    def close(self) -> None:
        """Refuse new calls; a call running now finishes on its thread (its HTTP timeout bounds it)."""
        if not self._closed:
            self._closed = True
            self._executor.shutdown(wait=False, cancel_futures=True)

    def statistics(self) -> LaneStatistics:
        return LaneStatistics(self.name, self._calls, self._retries, self._failures, self._in_flight)

    def __repr__(self) -> str:
        return (
            f"RequestLane({self.name!r}, calls={self._calls}, retries={self._retries}, "
            f"failures={self._failures}, in_flight={self._in_flight})"
        )
