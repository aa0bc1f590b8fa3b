"""Enforcement: flatten, close one position, reduce to a limit, lock out, alert.

``Enforcer.enforce`` dispatches a violation's typed remedy through one table, one method per
``Action``. Idempotent: while a flatten (or a close of one symbol) is in flight, the same
action is not sent again; a flood of violating events therefore produces one flatten. Every
action is audited (what, why, which rule, result) and published as ``EnforcementExecuted``;
its audit row goes to the ``RiskRecorder``, written after the action with the rest of its
decision.

The alert of an enforced violation says how urgently a person must act, not how bad the
breach was: a rule that fired and was carried out is routine (``WARNING``, or ``INFO`` for an
informational rule); ``CRITICAL`` means a step failed (the broker refused a flatten), so the
desk could not do what a rule asked. The notifier logs an alert at its severity, so ERROR in
the log means something in the desk went wrong.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from trading.broker.base import Broker
from trading.bus import EventBus
from trading.clock import Clock
from trading.model import AlertRaised, EnforcementExecuted, Severity, TradingState
from trading.risk.actions import (
    Action,
    Alert,
    ClosePosition,
    Cooldown,
    Deny,
    Flatten,
    FlattenAndLock,
    Lock,
    ReduceToLimit,
    lockout_state,
)
from trading.risk.lockouts import LockoutManager
from trading.risk.notifier import Notifier
from trading.risk.recorder import RiskRecorder
from trading.risk.types import Violation

__all__ = ["EnforcementStatistics", "Enforcer"]

logger = logging.getLogger(__name__)

# A handler carries out one kind of remedy for a violation; it returns one result per step taken.
Handler = Callable[[Any, Violation], list[str]]


@dataclass(frozen=True, slots=True)
class EnforcementStatistics:
    actions: int
    suppressed: int
    failures: int
    in_flight: int


class Enforcer:
    """Carries out violations' actions on the broker, the lockouts and the notifier."""

    def __init__(
        self,
        bus: EventBus,
        broker: Broker,
        clock: Clock,
        lockouts: LockoutManager,
        *,
        recorder: RiskRecorder | None = None,
        notifier: Notifier | None = None,
        in_flight_timeout_s: float = 30.0,
    ) -> None:
        self._bus = bus
        self._broker = broker
        self._clock = clock
        self._lockouts = lockouts
        self._recorder = recorder
        self.notifier = notifier
        self._timeout = timedelta(seconds=in_flight_timeout_s)
        self._in_flight: dict[tuple[str, str], datetime] = {}
        self.actions = 0
        self.suppressed = 0
        self.failures = 0
        self._journal: deque[dict[str, Any]] = deque(maxlen=1000)  # recent actions, for the sweep
        self.handlers: dict[Action, Handler] = {
            Action.ALERT: self._alert_only,
            Action.DENY: self._deny,
            Action.CLOSE_POSITION: self._close_position,
            Action.REDUCE_TO_LIMIT: self._reduce_to_limit,
            Action.FLATTEN: self._flatten,
            Action.FLATTEN_AND_LOCK: self._flatten_and_lock,
            Action.LOCK: self._lock,
            Action.COOLDOWN: self._cooldown,
        }

    # --- entry point -------------------------------------------------------------

    def enforce(self, violation: Violation) -> list[str]:
        """Carry out ``violation.remedy``; return the results (one per step taken)."""
        remedy = violation.remedy
        suppressed_before = self.suppressed
        failures_before = self.failures
        results = self.handlers[remedy.action](remedy, violation)
        if results and self.suppressed - suppressed_before == len(results):
            logger.debug("%s by %s: already enforced, no new alert", remedy.action.value, violation.rule)
            return results
        outcome = f" -> {'; '.join(results)}" if results else ""
        if self.failures > failures_before:
            severity = Severity.CRITICAL  # the desk could not carry the rule out: a person must act
        elif violation.severity is Severity.INFO:
            severity = Severity.INFO
        else:
            severity = Severity.WARNING  # carried out as configured: routine
        self.alert(severity, f"{violation.message}{outcome}", violation.rule)
        return results

    def actions_since(self, count: int) -> list[dict[str, Any]]:
        """The actions recorded after the first ``count`` (``count`` read from ``actions`` before),
        oldest first; at most the last 1000."""
        taken = self.actions - count
        return list(self._journal)[-taken:] if taken > 0 else []

    # --- one handler per action (the table in __init__) ----------------------------

    def _alert_only(self, remedy: Alert, violation: Violation) -> list[str]:
        return []

    def _deny(self, remedy: Deny, violation: Violation) -> list[str]:
        return []  # the pre-trade check refused the order; nothing to do on the account

    def _close_position(self, remedy: ClosePosition, violation: Violation) -> list[str]:
        return [self.close_position(remedy.symbol, violation.rule, violation.message)]

    def _reduce_to_limit(self, remedy: ReduceToLimit, violation: Violation) -> list[str]:
        return [self.reduce(remedy.symbol, remedy.excess, violation.rule, violation.message)]

    def _flatten(self, remedy: Flatten, violation: Violation) -> list[str]:
        return [self.flatten(violation.rule, violation.message)]

    def _flatten_and_lock(self, remedy: FlattenAndLock, violation: Violation) -> list[str]:
        rule, reason = violation.rule, violation.message
        flattened = self.flatten(rule, reason)  # first: closing orders go out before any I/O
        state = lockout_state(remedy.action)
        return [flattened, self.lock("account", rule, reason, until=None, state=state)]

    def _lock(self, remedy: Lock, violation: Violation) -> list[str]:
        state = lockout_state(remedy.action)
        return [self.lock("account", violation.rule, violation.message, until=None, state=state)]

    def _cooldown(self, remedy: Cooldown, violation: Violation) -> list[str]:
        until = violation.ts + timedelta(seconds=remedy.seconds)
        state = lockout_state(remedy.action)
        return [self.lock("account", violation.rule, violation.message, until=until, state=state)]

    # --- actions -----------------------------------------------------------------

    def flatten(self, rule: str, reason: str) -> str:
        if self._busy(("flatten", "*")):
            return "flatten already in flight"
        try:
            orders = self._broker.flatten_all(reason=f"{rule}: {reason}")
        except Exception as exc:  # the broker failing must be recorded, not crash the bus
            return self._record(Action.FLATTEN, rule, reason, f"failed: {exc!r}", None, failed=True)
        if orders:
            self._in_flight[("flatten", "*")] = self._clock.now()
        ids = ", ".join(o.order_id for o in orders)
        result = f"closing orders {ids}" if orders else "nothing to close; open orders cancelled"
        return self._record(Action.FLATTEN, rule, reason, result, None)

    def close_position(self, symbol: str, rule: str, reason: str) -> str:
        if self._busy(("flatten", "*")) or self._busy(("close", symbol)):
            return f"close {symbol} already in flight"
        try:
            order = self._broker.close_position(symbol, reason=f"{rule}: {reason}")
        except Exception as exc:  # recorded as a failed action
            return self._record(Action.CLOSE_POSITION, rule, reason, f"failed: {exc!r}", symbol, failed=True)
        if order is not None:
            self._in_flight[("close", symbol)] = self._clock.now()
        result = f"closing order {order.order_id}" if order is not None else "no position to close"
        return self._record(Action.CLOSE_POSITION, rule, reason, result, symbol)

    def reduce(self, symbol: str, quantity: float, rule: str, reason: str) -> str:
        if quantity <= 0:
            return f"nothing to reduce on {symbol}"
        if self._busy(("flatten", "*")) or self._busy(("reduce", symbol)) or self._busy(("close", symbol)):
            return f"reduce {symbol} already in flight"
        try:
            order = self._broker.reduce_position(symbol, quantity, reason=f"{rule}: {reason}")
        except Exception as exc:  # recorded as a failed action
            return self._record(Action.REDUCE_TO_LIMIT, rule, reason, f"failed: {exc!r}", symbol, failed=True)
        if order is not None:
            self._in_flight[("reduce", symbol)] = self._clock.now()
        result = f"reducing order {order.order_id} for {quantity:g}" if order is not None else "no position"
        return self._record(Action.REDUCE_TO_LIMIT, rule, reason, result, symbol)

    def lock(self, scope: str, rule: str, reason: str, *, until: datetime | None, state: TradingState) -> str:
        if self._lockouts.covers(scope, until=until, state=state):
            self.suppressed += 1
            return f"{scope} already locked"
        lock = self._lockouts.lock(scope, rule=rule, reason=reason, until=until, state=state)
        end = "the daily reset" if lock.until is None else lock.until.isoformat()
        return self._record(Action.LOCK, rule, reason, f"{scope} {lock.state.value} until {end}", None)

    def alert(self, severity: Severity, message: str, rule: str = "") -> None:
        alert = AlertRaised(ts=self._clock.now(), severity=severity, message=message, rule=rule)
        self._bus.publish(alert)
        if self.notifier is not None:
            try:
                self.notifier.notify(alert)
            except Exception:  # alerts are best effort; enforcement has already happened
                logger.exception("notifier failed on %r", alert)

    # --- in-flight bookkeeping ------------------------------------------------------

    def position_closed(self, symbol: str, *, all_flat: bool) -> None:
        """A position closed: its close/reduce is done; with ``all_flat`` the flatten is done."""
        self._in_flight.pop(("close", symbol), None)
        self._in_flight.pop(("reduce", symbol), None)
        if all_flat:
            self._in_flight.pop(("flatten", "*"), None)

    def position_changed(self, symbol: str) -> None:
        self._in_flight.pop(("reduce", symbol), None)

    def _busy(self, key: tuple[str, str]) -> bool:
        since = self._in_flight.get(key)
        if since is None:
            return False
        if self._clock.now() - since > self._timeout:
            logger.warning("%s %s still in flight after %s: sending again", key[0], key[1], self._timeout)
            del self._in_flight[key]
            return False
        self.suppressed += 1
        return True

    def _record(
        self, step: Action, rule: str, reason: str, result: str, symbol: str | None, failed: bool = False
    ) -> str:
        now = self._clock.now()
        action = step.value
        self.actions += 1
        self._journal.append(
            {"ts": now.isoformat(), "action": action, "rule": rule, "symbol": symbol, "result": result}
        )
        if failed:
            self.failures += 1
            logger.error("enforcement %s by %s failed: %s", action, rule, result)
        else:
            logger.warning("enforcement %s by %s: %s (%s)", action, rule, result, reason)
        self._bus.publish(
            EnforcementExecuted(ts=now, action=action, rule=rule, reason=reason, result=result, symbol=symbol)
        )
        if self._recorder is not None:  # after the action and its event: written off the loop
            self._recorder.audit(
                {
                    "ts": now,
                    "action": action,
                    "rule": rule,
                    "reason": reason,
                    "result": result,
                    "symbol": symbol,
                }
            )
        return result

    def statistics(self) -> EnforcementStatistics:
        return EnforcementStatistics(self.actions, self.suppressed, self.failures, len(self._in_flight))

    def __repr__(self) -> str:
        flying = list(self._in_flight)
        return f"Enforcer(actions={self.actions}, suppressed={self.suppressed}, in_flight={flying})"
