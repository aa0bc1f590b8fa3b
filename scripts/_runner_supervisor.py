"""Supervision of one child: health, restart with exponential backoff, a restart limit.

The same policy applies from the child's first second: a child that dies while the
launcher is still waiting for it to become healthy is restarted like one that dies an
hour later. Two exceptions give up at once, because restarting cannot help: the restart
limit is reached, or a child that has never been healthy exits with a code the policy
calls fatal (2: bad input, such as a config the desk refuses).
"""

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
    fatal_exit_codes: frozenset[int] = frozenset({2})  # before the first healthy check: give up at once

    def backoff(self, attempt: int) -> float:
        return min(self.backoff_max, self.backoff_initial * (2 ** max(0, attempt - 1)))


class SupervisedChild:
    """A child plus its health check and restart bookkeeping; driven by ``tick()``."""

    def __init__(
        self,
        child: ChildProcess,
        health: Callable[[], HealthResult],
        policy: RestartPolicy,
        *,
        on_started: Callable[[ChildProcess], None] | None = None,
    ) -> None:
        self.child = child
        self.health = health
        self.policy = policy
        self.on_started = on_started
        self.restarts = 0  # total
        self.consecutive = 0
        self.last_health: HealthResult | None = None
        self.last_restart_reason = ""
        self.failed = False
        self.failure = ""  # why it gave up, in words
        self.gave_up_on_bad_input = False  # it exited with a fatal code (bad input) before being healthy
        self.ever_healthy = False
        self._last_ok = time.monotonic()
        self._healthy_since: float | None = None
        self._restart_at: float | None = None
        self._down_since: float | None = None  # when the failure that led to a restart was seen

    @property
    def name(self) -> str:
        return self.child.name

    @property
    def healthy(self) -> bool:
        return (
            self._restart_at is None
            and self.child.proc is not None
            and self.child.poll() is None
            and self.last_health is not None
            and self.last_health.ok
        )

    def start(self, now: float | None = None) -> None:
        self.child.start()
        self._last_ok = time.monotonic() if now is None else now
        self._healthy_since = None
        self.last_health = None
        if self.on_started is not None:
            self.on_started(self.child)

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
                self.start(now)
            return
        code = self.child.poll()
        if code is not None:
            if code in self.policy.fatal_exit_codes and not self.ever_healthy:
                said = self.child.last_output_line()
                self.gave_up_on_bad_input = True
                self._give_up(
                    f"exited with code {code} before it was ever healthy" + (f": {said}" if said else "")
                )
                return
            self._schedule_restart(now, f"exited with code {code}")
            return
        result = self.check()
        if result.ok:
            self._on_healthy(now)
            return
        self._healthy_since = None
        if now - self._last_ok >= self.policy.unhealthy_after:
            self._schedule_restart(now, f"unhealthy for {now - self._last_ok:.0f} s: {result.detail}")

    def _on_healthy(self, now: float) -> None:
        self._last_ok = now
        if self._down_since is not None:
            logger.info(
                "%s healthy again after %.1f s (pid %s, restart %d)",
                self.name,
                now - self._down_since,
                self.child.pid,
                self.restarts,
            )
            self._down_since = None
        elif not self.ever_healthy:
            logger.info("%s healthy (pid %s)", self.name, self.child.pid)
        self.ever_healthy = True
        if self._healthy_since is None:
            self._healthy_since = now
        elif self.consecutive and now - self._healthy_since >= self.policy.stable_after:
            self.consecutive = 0

    def _schedule_restart(self, now: float, reason: str) -> None:
        self.last_restart_reason = reason
        if self.consecutive >= self.policy.limit:
            self._give_up(f"{reason}; restart limit ({self.policy.limit}) reached")
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
        if self._down_since is None:
            self._down_since = now

    def _give_up(self, reason: str) -> None:
        self.failed = True
        self.failure = f"{self.name} {reason}"
        logger.error("%s: giving up", self.failure)
        self.child.stop(timeout=2.0)

    def __repr__(self) -> str:
        return (
            f"SupervisedChild({self.name!r}, pid={self.child.pid}, healthy={self.healthy}, "
            f"restarts={self.restarts}, failed={self.failed})"
        )
