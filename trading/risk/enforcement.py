"""Enforcement: flatten, close one position, reduce to a limit, lock out, alert.

Idempotent: while a flatten (or a close of one symbol) is in flight, the same action is not
sent again; a flood of violating events therefore produces one flatten. Every action is
audited (what, why, which rule, result) and published as ``EnforcementExecuted``.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from trading.broker.base import Broker
from trading.bus import EventBus
from trading.clock import Clock
from trading.model import AlertRaised, EnforcementExecuted, Severity, TradingState
from trading.risk.lockouts import LockoutManager
from trading.risk.notifier import Notifier
from trading.risk.types import Violation

__all__ = ["ACTIONS", "AuditStore", "EnforcementStatistics", "Enforcer"]

logger = logging.getLogger(__name__)

# Every enforcement action a rule may ask for, with what it means.
ACTIONS: dict[str, str] = {
    "alert": "raise an alert only",
    "deny": "refuse orders in the pre-trade check (no action on the account)",
    "close_position": "close the offending position",
    "reduce_to_limit": "reduce the offending position by the excess",
    "flatten": "cancel every open order, then close every position",
    "flatten_and_lock": "flatten, then halt the account until the daily reset",
    "lock": "no new entries until the daily reset (REDUCING)",
    "cooldown": "no new entries for the rule's cooldown (REDUCING)",
}

_VERBS = {
    "alert": "alerted",
    "deny": "denied the order",
    "close_position": "closed the position",
    "reduce_to_limit": "reduced the position",
    "flatten": "flattened",
    "flatten_and_lock": "flattened and locked the account",
    "lock": "stopped new entries",
    "cooldown": "paused new entries",
}


def would_have(action: str) -> str:
    return "would have " + _VERBS.get(action, action)


class AuditStore(Protocol):
    """What ``trading.storage.AuditRepository`` provides."""

    def add(
        self, *, ts: datetime, action: str, rule: str, reason: str, result: str, symbol: str | None = None
    ) -> Any: ...


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
        audit: AuditStore | None = None,
        notifier: Notifier | None = None,
        in_flight_timeout_s: float = 30.0,
    ) -> None:
        self._bus = bus
        self._broker = broker
        self._clock = clock
        self._lockouts = lockouts
        self._audit = audit
        self.notifier = notifier
        self._timeout = timedelta(seconds=in_flight_timeout_s)
        self._in_flight: dict[tuple[str, str], datetime] = {}
        self.actions = 0
        self.suppressed = 0
        self.failures = 0
        self._journal: deque[dict[str, Any]] = deque(maxlen=1000)  # recent actions, for the sweep

    # --- entry point -------------------------------------------------------------

    def enforce(self, violation: Violation) -> list[str]:
        """Carry out ``violation.action``; return the results (one per step taken)."""
        action, rule, reason, symbol = violation.action, violation.rule, violation.message, violation.symbol
        results: list[str] = []
        suppressed_before = self.suppressed
        if action == "flatten_and_lock":
            results.append(self.flatten(rule, reason))  # first: closing orders go out before any I/O
            results.append(self.lock("account", rule, reason, until=None, state=TradingState.HALTED))
        elif action == "flatten":
            results.append(self.flatten(rule, reason))
        elif action == "lock":
            results.append(self.lock("account", rule, reason, until=None, state=TradingState.REDUCING))
        elif action == "cooldown":
            until = violation.ts + timedelta(seconds=float(violation.values.get("seconds", 0.0)))
            results.append(self.lock("account", rule, reason, until=until, state=TradingState.REDUCING))
        elif action == "close_position" and symbol is not None:
            results.append(self.close_position(symbol, rule, reason))
        elif action == "reduce_to_limit" and symbol is not None:
            results.append(self.reduce(symbol, float(violation.values.get("excess", 0.0)), rule, reason))
        if results and self.suppressed - suppressed_before == len(results):
            logger.debug("%s by %s: already enforced, no new alert", action, rule)
            return results
        outcome = f" -> {'; '.join(results)}" if results else ""
        self.alert(violation.severity, f"{reason}{outcome}", rule)
        return results

    def actions_since(self, count: int) -> list[dict[str, Any]]:
        """The actions recorded after the first ``count`` (``count`` read from ``actions`` before),
        oldest first; at most the last 1000."""
        taken = self.actions - count
        return list(self._journal)[-taken:] if taken > 0 else []

    # --- actions -----------------------------------------------------------------

    def flatten(self, rule: str, reason: str) -> str:
        if self._busy(("flatten", "*")):
            return "flatten already in flight"
        try:
            orders = self._broker.flatten_all(reason=f"{rule}: {reason}")
        except Exception as exc:  # the broker failing must be recorded, not crash the bus
            return self._record("flatten", rule, reason, f"failed: {exc!r}", None, failed=True)
        if orders:
            self._in_flight[("flatten", "*")] = self._clock.now()
        ids = ", ".join(o.order_id for o in orders)
        result = f"closing orders {ids}" if orders else "nothing to close; open orders cancelled"
        return self._record("flatten", rule, reason, result, None)

    def close_position(self, symbol: str, rule: str, reason: str) -> str:
        if self._busy(("flatten", "*")) or self._busy(("close", symbol)):
            return f"close {symbol} already in flight"
        try:
            order = self._broker.close_position(symbol, reason=f"{rule}: {reason}")
        except Exception as exc:  # recorded as a failed action
            return self._record("close_position", rule, reason, f"failed: {exc!r}", symbol, failed=True)
        if order is not None:
            self._in_flight[("close", symbol)] = self._clock.now()
        result = f"closing order {order.order_id}" if order is not None else "no position to close"
        return self._record("close_position", rule, reason, result, symbol)

    def reduce(self, symbol: str, quantity: float, rule: str, reason: str) -> str:
        if quantity <= 0:
            return f"nothing to reduce on {symbol}"
        if self._busy(("flatten", "*")) or self._busy(("reduce", symbol)) or self._busy(("close", symbol)):
            return f"reduce {symbol} already in flight"
        try:
            order = self._broker.reduce_position(symbol, quantity, reason=f"{rule}: {reason}")
        except Exception as exc:  # recorded as a failed action
            return self._record("reduce_to_limit", rule, reason, f"failed: {exc!r}", symbol, failed=True)
        if order is not None:
            self._in_flight[("reduce", symbol)] = self._clock.now()
        result = f"reducing order {order.order_id} for {quantity:g}" if order is not None else "no position"
        return self._record("reduce_to_limit", rule, reason, result, symbol)

    def lock(self, scope: str, rule: str, reason: str, *, until: datetime | None, state: TradingState) -> str:
        if self._lockouts.covers(scope, until=until, state=state):
            self.suppressed += 1
            return f"{scope} already locked"
        lock = self._lockouts.lock(scope, rule=rule, reason=reason, until=until, state=state)
        end = "the daily reset" if lock.until is None else lock.until.isoformat()
        return self._record("lock", rule, reason, f"{scope} {lock.state.value} until {end}", None)

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
        self, action: str, rule: str, reason: str, result: str, symbol: str | None, failed: bool = False
    ) -> str:
        now = self._clock.now()
        self.actions += 1
        self._journal.append(
            {"ts": now.isoformat(), "action": action, "rule": rule, "symbol": symbol, "result": result}
        )
        if failed:
            self.failures += 1
            logger.error("enforcement %s by %s failed: %s", action, rule, result)
        else:
            logger.warning("enforcement %s by %s: %s (%s)", action, rule, result, reason)
        if self._audit is not None:
            try:
                self._audit.add(ts=now, action=action, rule=rule, reason=reason, result=result, symbol=symbol)
            except Exception:  # the audit store failing must not undo or block the action itself
                logger.exception("audit record failed for %s by %s", action, rule)
        self._bus.publish(
            EnforcementExecuted(ts=now, action=action, rule=rule, reason=reason, result=result, symbol=symbol)
        )
        return result

    def statistics(self) -> EnforcementStatistics:
        return EnforcementStatistics(self.actions, self.suppressed, self.failures, len(self._in_flight))

    def __repr__(self) -> str:
        flying = list(self._in_flight)
        return f"Enforcer(actions={self.actions}, suppressed={self.suppressed}, in_flight={flying})"
