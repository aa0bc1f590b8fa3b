"""Supervision of one child: health, restart with exponential backoff, a restart limit."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from scripts._runner_children import ChildProcess, HealthResult

__all__ = ["RestartPolicy", "SupervisedChild"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class RestartPolicy:
    limit: int = 5  # consecutive restarts before giving up
    backoff_initial: float = 0.5  # seconds before the first restart; doubles each time
    backoff_max: float = 10.0
    unhealthy_after: float = (
        15.0  # a running child unhealthy this long (or not healthy this long after start)
    )
    stable_after: float = 30.0  # healthy this long: the consecutive-restart count goes back to 0

    def backoff(self, attempt: int) -> float:
        return min(self.backoff_max, self.backoff_initial * (2 ** max(0, attempt - 1)))


class SupervisedChild:
    """A child plus its health check and restart bookkeeping; driven by ``tick()``."""

    def __init__(
        self, child: ChildProcess, health: Callable[[], HealthResult], policy: RestartPolicy
    ) -> None:
        self.child = child
        self.health = health
        self.policy = policy
        self.restarts = 0  # total
        self.consecutive = 0
        self.last_health: HealthResult | None = None
        self.last_restart_reason = ""
        self.failed = False
        self._last_ok = time.monotonic()
        self._healthy_since: float | None = None
        self._restart_at: float | None = None

    @property
    def name(self) -> str:
        return self.child.name

    @property
    def healthy(self) -> bool:
        return self.last_health is not None and self.last_health.ok and self.child.poll() is None

    def start(self) -> None:
        self.child.start()
        self._last_ok = time.monotonic()
        self._healthy_since = None
        self.last_health = None

    def check(self) -> HealthResult:
        self.last_health = self.health()
        return self.last_health

    def tick(self, now: float) -> None:
        """One supervision step: restart when due, notice an exit or a long unhealthy spell."""
        if self.failed:
            return
        if self._restart_at is not None:
            if now >= self._restart_at:
                self._restart_at = None
                self.start()
            return
        code = self.child.poll()
        if code is not None:
            self._schedule_restart(now, f"exited with code {code}")
            return
        result = self.check()
        if result.ok:
            self._last_ok = now
            if self._healthy_since is None:
                self._healthy_since = now
            elif self.consecutive and now - self._healthy_since >= self.policy.stable_after:
                self.consecutive = 0
            return
        self._healthy_since = None
        if now - self._last_ok >= self.policy.unhealthy_after:
            self._schedule_restart(now, f"unhealthy for {now - self._last_ok:.0f} s: {result.detail}")

    def _schedule_restart(self, now: float, reason: str) -> None:
        self.last_restart_reason = reason
        if self.consecutive >= self.policy.limit:
            self.failed = True
            logger.error("%s %s; restart limit (%d) reached: giving up", self.name, reason, self.policy.limit)
            self.child.stop(timeout=2.0)
            return
        self.consecutive += 1
        self.restarts += 1
        delay = self.policy.backoff(self.consecutive)
        logger.warning(
            "%s %s: restart %d/%d in %.1f s", self.name, reason, self.consecutive, self.policy.limit, delay
        )
        self.child.stop(timeout=2.0)
        self._restart_at = now + delay
        self._healthy_since = None

    def __repr__(self) -> str:
        return (
            f"SupervisedChild({self.name!r}, pid={self.child.pid}, healthy={self.healthy}, "
            f"restarts={self.restarts}, failed={self.failed})"
        )
