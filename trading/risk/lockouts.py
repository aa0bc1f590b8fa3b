"""LockoutManager: who may not open new exposure, why, and until when.

One lockout per scope ("account" or a symbol), as the ``lockouts`` table keys them. A new
lockout on a scope that already has one is merged: the stronger state and the later end win,
so a short cooldown never shortens a lock that lasts until the daily reset. A merge keeps the
name and reason of a loss rule's lockout (``loss_rule``) over any other's, so the manual unlock
policy (``trading.risk.unlock_policy``) still sees it under a stronger lock of another rule.

Every change is handed to the ``RiskRecorder``, which writes it with the rest of the decision
that made it (a violation's record, an operator's command); ``restore`` takes the rows back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, NamedTuple

from trading.bus import EventBus
from trading.clock import Clock
from trading.model import LockoutEnded, LockoutStarted, TradingState
from trading.risk.recorder import RiskRecorder
from trading.risk.types import Lockout

__all__ = ["LockoutManager", "LockoutStatistics"]

logger = logging.getLogger(__name__)

_LEVEL = {TradingState.ACTIVE: 0, TradingState.REDUCING: 1, TradingState.HALTED: 2}


class LockoutStatistics(NamedTuple):
    active: int
    started: int
    ended: int


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None or b is None:
        return None  # None = until the daily reset, which outlasts any timed lock of the day
    return max(a, b)


class LockoutManager:
    def __init__(
        self,
        bus: EventBus,
        clock: Clock,
        *,
        recorder: RiskRecorder | None = None,
        loss_rule: Callable[[str], bool] | None = None,
    ) -> None:
        self._bus = bus
        self._clock = clock
        self._recorder = recorder
        self._loss_rule = loss_rule or (lambda rule: False)
        self._lockouts: dict[str, Lockout] = {}
        self._next_expiry: datetime | None = None
        self.started = 0
        self.ended = 0

    # --- reading -----------------------------------------------------------------

    def all(self) -> list[Lockout]:
        return sorted(self._lockouts.values(), key=lambda lock: lock.started_at)

    def get(self, scope: str) -> Lockout | None:
        return self._lockouts.get(scope)

    def level(self) -> TradingState:
        """The strongest state an account-scoped lockout imposes (ACTIVE when none)."""
        account = self._lockouts.get("account")
        return TradingState.ACTIVE if account is None else account.state

    def __len__(self) -> int:
        return len(self._lockouts)

    def covers(self, scope: str, *, until: datetime | None, state: TradingState) -> bool:
        """True when ``scope`` already has a lockout at least as strong and as long as this one."""
        old = self._lockouts.get(scope)
        if old is None or _LEVEL[state] > _LEVEL[old.state]:
            return False
        return _later(old.until, until) == old.until

    # --- changing ----------------------------------------------------------------

    def lock(
        self,
        scope: str,
        *,
        rule: str,
        reason: str,
        until: datetime | None,
        state: TradingState = TradingState.HALTED,
    ) -> Lockout:
        """Lock ``scope``; merged with an existing lockout of that scope. Returns the lockout in force."""
        now = self._clock.now()
        new = Lockout(scope=scope, rule=rule, reason=reason, started_at=now, until=until, state=state)
        old = self._lockouts.get(scope)
        if old is not None:
            stronger_new = _LEVEL[state] > _LEVEL[old.state]
            merged_until = _later(old.until, until)
            if not stronger_new and merged_until == old.until:
                return old  # the existing lockout already covers this one
            keep = new if _LEVEL[state] >= _LEVEL[old.state] else old  # the reason of the lock in force
            loss_old, loss_new = self._loss_rule(old.rule), self._loss_rule(rule)
            if loss_old != loss_new:  # a loss rule's lockout keeps its name under the unlock policy
                keep = old if loss_old else new
            new = Lockout(
                scope=scope,
                rule=keep.rule,
                reason=keep.reason,
                started_at=old.started_at,
                until=merged_until,
                state=state if stronger_new else old.state,
            )
        self._put(new)
        self.started += 1
        logger.warning(
            "lockout %s by %s until %s: %s",
            scope,
            new.rule,
            "daily reset" if new.until is None else new.until.isoformat(),
            new.reason,
        )
        self._bus.publish(
            LockoutStarted(ts=now, scope=scope, reason=new.reason, rule=new.rule, until=new.until)
        )
        return new

    def unlock(self, scope: str, reason: str) -> Lockout | None:
        found = self._lockouts.pop(scope, None)
        if found is None:
            return None
        self._recompute_expiry()
        if self._recorder is not None:
            self._recorder.lockout(scope, None)
        self.ended += 1
        logger.warning("lockout %s ended: %s", scope, reason)
        self._bus.publish(LockoutEnded(ts=self._clock.now(), scope=scope, reason=reason))
        return found

    def expire(self, now: datetime) -> list[Lockout]:
        """End the timed lockouts whose time has come. Cheap when none is due."""
        if self._next_expiry is None or now < self._next_expiry:
            return []
        due = [lock for lock in self._lockouts.values() if lock.until is not None and lock.until <= now]
        for lock in due:
            self.unlock(lock.scope, f"{lock.rule} lockout expired")
        return due

    def clear_daily(self) -> list[Lockout]:
        """At the daily reset: end every lockout that lasts until the reset, and the expired ones."""
        now = self._clock.now()
        ending = [lock for lock in self._lockouts.values() if lock.until is None or lock.until <= now]
        for lock in ending:
            self.unlock(lock.scope, "daily reset")
        return ending

    def restore(
        self,
        rows: Iterable[Mapping[str, Any]],
        state_of: Callable[[str], TradingState],
        *,
        last_reset: datetime,
    ) -> list[Lockout]:
        """Take back the stored lockout ``rows``; the ones a reset or their end time has already
        ended are dropped (and their rows removed through the recorder).

        ``state_of(rule)`` says which state a rule's lockout imposes (it is not stored).
        """
        now = self._clock.now()
        restored: list[Lockout] = []
        for row in rows:
            lock = Lockout(
                scope=row["scope"],
                rule=row["rule"],
                reason=row["reason"],
                started_at=row["started_at"],
                until=row["until"],
                state=state_of(row["rule"]),
            )
            stale = lock.until <= now if lock.until is not None else lock.started_at < last_reset
            if stale:
                if self._recorder is not None:
                    self._recorder.lockout(lock.scope, None)
                logger.info("dropped stale lockout %s (%s) on restore", lock.scope, lock.rule)
                continue
            self._lockouts[lock.scope] = lock
            restored.append(lock)
            logger.warning("restored lockout %s by %s: %s", lock.scope, lock.rule, lock.reason)
        self._recompute_expiry()
        return restored

    def _put(self, lock: Lockout) -> None:
        self._lockouts[lock.scope] = lock
        self._recompute_expiry()
        if self._recorder is not None:
            self._recorder.lockout(
                lock.scope,
                {
                    "scope": lock.scope,
                    "rule": lock.rule,
                    "reason": lock.reason,
                    "started_at": lock.started_at,
                    "until": lock.until,
                },
            )

    def _recompute_expiry(self) -> None:
        ends = [lock.until for lock in self._lockouts.values() if lock.until is not None]
        self._next_expiry = min(ends) if ends else None

    def statistics(self) -> LockoutStatistics:
        return LockoutStatistics(active=len(self._lockouts), started=self.started, ended=self.ended)

    def __repr__(self) -> str:
        scopes = ",".join(f"{s}:{lock.state.value}" for s, lock in self._lockouts.items())
        return f"LockoutManager([{scopes}], started={self.started}, ended={self.ended})"
