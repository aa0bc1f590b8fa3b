"""RiskEngine: rules indexed by event type, the trading state, the pre-trade check.

Dispatch is a dict from event class to a tuple of bound rule methods, so an event only
reaches the rules that asked for it. A rule's finding is a ``Violation`` value handed to
the ``sink`` (the ``RiskManager`` records and enforces it); a rule that raises is logged,
counted as a fault of that rule, and the other rules still run.

The trading state is derived (``refresh_state``) from, strongest first: an operator's pause,
a HALTED lockout, a storage outage (HALTED, but orders that only reduce exposure pass: the
books cannot be written, so nothing new is opened), a REDUCING lockout.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from trading.bus import EventBus
from trading.clock import Clock
from trading.errors import InvalidStateTransition, StateError
from trading.model import Event, Order, Severity, TradingState, TradingStateChanged
from trading.risk._status import NO_WARNING, error_status, status_of
from trading.risk.actions import Deny
from trading.risk.lockouts import LockoutManager
from trading.risk.pnl import PnLTracker
from trading.risk.reset import ResetScheduler
from trading.risk.rules.base import Rule
from trading.risk.timers import TimerManager
from trading.risk.types import LimitWarning, RuleStatus, Violation, ViolationRecord

__all__ = ["STATE_TABLE", "EngineStatistics", "RiskEngine"]

logger = logging.getLogger(__name__)

_A, _R, _H = TradingState.ACTIVE, TradingState.REDUCING, TradingState.HALTED
STATE_TABLE: dict[TradingState, frozenset[TradingState]] = {
    _A: frozenset({_R, _H}),
    _R: frozenset({_A, _H}),
    _H: frozenset({_A, _R}),
}


@dataclass(frozen=True, slots=True)
class EngineStatistics:
    state: str
    rules: int
    events: int
    checks: int
    denials: int
    violations: int
    shadow_violations: int
    faults: int
    warnings: int


Handler = Callable[[Any], Violation | None]
Sink = Callable[[Violation, Event | None], None]


class SavedState(Protocol):
    """One rule's saved state, as the store gives it back (``trading.storage.SavedRuleState``)."""

    @property
    def trading_day(self) -> date | None: ...

    @property
    def state(self) -> dict[str, Any]: ...


class RiskEngine:
    def __init__(
        self,
        bus: EventBus,
        clock: Clock,
        *,
        pnl: PnLTracker,
        lockouts: LockoutManager,
        timers: TimerManager,
        reset: ResetScheduler,
        warning_threshold: float = 0.8,
        rules: Iterable[Rule] = (),
        sink: Sink | None = None,
        on_warning: Callable[[LimitWarning], None] | None = None,
    ) -> None:
        self._bus = bus
        self._clock = clock
        self.pnl = pnl
        self.lockouts = lockouts
        self.timers = timers
        self.reset = reset
        self.warning_threshold = warning_threshold
        self.sink = sink
        self.on_warning = on_warning
        self._tz = ZoneInfo(reset.timezone)
        self.state = TradingState.ACTIVE
        self.state_reason = "started"
        self.paused = False
        self.pause_reason = ""
        self.blind_reason = ""  # a venue's account cannot be observed (BrokerBlind): REDUCING until sighted
        self.stale_marks = ""  # held positions' marks are stale (MarksStale): REDUCING until fresh
        self.storage_problem: str | None = None  # set while the books cannot be written
        self._exits_pass = False  # HALTED by a storage outage only: reducing orders pass
        self._rules: dict[str, Rule] = {}
        self._dispatch: dict[type, tuple[Handler, ...]] = {}
        self._by_type: dict[type, list[Handler]] = {}
        self._checkers: tuple[Rule, ...] = ()
        self._owners: dict[Handler, Rule] = {}
        self._split: dict[type, dict[str | None, tuple[Handler, ...]]] = {}
        self._warned: set[str] = set()
        self.recent: deque[ViolationRecord] = deque(maxlen=500)
        self.events = self.checks = self.denials = 0
        self.violations = self.shadow_violations = self.faults = self.warnings = 0
        self.set_rules(rules)

    # --- rules ---------------------------------------------------------------------

    @property
    def rules(self) -> dict[str, Rule]:
        return dict(self._rules)

    def set_rules(self, rules: Iterable[Rule]) -> None:
        """Replace the rule set in place and rebuild the dispatch index (disabled rules stay out)."""
        self._rules = {rule.name: rule for rule in rules}
        by_type: dict[type, list[Handler]] = {}
        owners: dict[Handler, Rule] = {}
        for rule in self._rules.values():
            if not rule.config.enabled:
                continue
            for event_type, handler in rule.handlers().items():
                by_type.setdefault(event_type, []).append(handler)
                owners[handler] = rule
        self._by_type = by_type
        self._owners = owners
        self._dispatch = {}
        self._split = {}
        self._checkers = tuple(r for r in self._rules.values() if r.config.enabled and r.checks_orders)
        self._warned &= set(self._rules)

    def _resolve(self, event_type: type) -> tuple[Handler, ...] | None:
        """Index ``event_type``: a tuple of handlers, or None when some handlers filter by symbol
        (then the event type is indexed per symbol in ``_split``)."""
        found: list[Handler] = []
        for klass in event_type.__mro__:
            found.extend(self._by_type.get(klass, ()))
        fields = getattr(event_type, "__dataclass_fields__", {})
        if "symbol" in fields and any(self._owners[h].symbols for h in found):
            self._split[event_type] = {None: tuple(found)}
            return None
        handlers = self._dispatch[event_type] = tuple(found)
        return handlers

    def handlers_for(self, event: Event) -> tuple[Handler, ...]:
        """The rule handlers ``event`` goes to (by type, and by symbol for rules that filter symbols)."""
        cls = event.__class__
        handlers = self._dispatch.get(cls)
        if handlers is not None:
            return handlers
        split = self._split.get(cls)
        if split is None:
            handlers = self._resolve(cls)
            if handlers is not None:
                return handlers
            split = self._split[cls]
        symbol = event.symbol  # type: ignore[attr-defined]  # split types all have a symbol
        handlers = split.get(symbol)
        if handlers is None:
            owners = self._owners
            handlers = split[symbol] = tuple(
                h for h in split[None] if not owners[h].symbols or symbol in owners[h].symbols
            )
        return handlers

    # --- events (the hot path) -------------------------------------------------------

    def on_event(self, event: Event) -> None:
        """Run the rules that listen to ``type(event)``."""
        self.events += 1
        handlers = self._dispatch.get(event.__class__)
        if handlers is None:
            handlers = self.handlers_for(event)
        for handler in handlers:
            try:
                found = handler(event)
            except Exception:
                self._fault(handler, event)
                continue
            if found is not None:
                self.emit(found, event)

    def _fault(self, handler: Handler, event: Event) -> None:
        rule = self._owners.get(handler) or getattr(handler, "__self__", None)
        self.rule_fault(rule if isinstance(rule, Rule) else None, repr(event))

    def rule_fault(self, rule: Rule | None, during: str) -> None:
        """Count and log (the first three, then every 1000th) an exception of ``rule``."""
        self.faults += 1
        count = 0
        if rule is not None:
            rule.faults += 1
            count = rule.faults
        if count <= 3 or count % 1000 == 0:
            logger.exception("rule %s failed on %s (fault %d); other rules go on", rule, during, count)

    def emit(self, violation: Violation, event: Event | None) -> None:
        """Hand a violation to the sink; a shadow rule's becomes a 'would have' record."""
        rule = self._rules.get(violation.rule)
        if rule is not None and rule.shadow:
            at = violation.ts.astimezone(self._tz).strftime("%H:%M:%S")
            violation = replace(
                violation,
                shadow=True,
                severity=Severity.INFO,
                message=f"{violation.action.would_have} at {at}, {violation.message}",
            )
            self.shadow_violations += 1
        else:
            self.violations += 1
        logger.warning(
            "risk violation %s: %s (action %s)", violation.rule, violation.message, violation.action
        )
        try:
            if self.sink is not None:
                self.sink(violation, event)  # enforcement first: its orders go out before the record
        finally:
            self.recent.append(violation.record())

    # --- pre-trade check ---------------------------------------------------------------

    def reduces_exposure(self, order: Order) -> bool:
        held = self.pnl.quantity(order.symbol)
        return held != 0.0 and order.side.sign * held < 0 and order.quantity <= abs(held) + 1e-9

    def check(self, order: Order) -> tuple[str, str] | None:
        """None lets ``order`` through; (rule, reason) denies it. Installed on the broker."""
        now = self._clock.now()
        self.checks += 1
        self.housekeeping(now)
        reducing = self.reduces_exposure(order)
        verdict = self._state_verdict(order, reducing)
        if verdict is None:
            for rule in self._checkers:
                try:
                    reason = rule.check(order, reducing, now)
                except Exception:
                    self.rule_fault(rule, f"pre-trade check of {order!r}")
                    reason = f"rule {rule.name} failed while checking; order denied"
                if reason is None:
                    continue
                if rule.shadow:
                    self.emit(
                        rule.violation(
                            f"{order.side.value} {order.quantity:g} {order.symbol}: {reason}",
                            remedy=Deny(),
                            symbol=order.symbol,
                            ts=now,
                        ),
                        None,
                    )
                    continue
                verdict = (rule.name, reason)
                break
        if verdict is not None:
            self.denials += 1
            logger.info("order %s denied by %s: %s", order.order_id, verdict[0], verdict[1])
            return verdict
        for rule in self._checkers:
            rule.on_passed(order, now)
        return None

    def _state_verdict(self, order: Order, reducing: bool) -> tuple[str, str] | None:
        if self.state is TradingState.HALTED:
            if reducing and self._exits_pass:
                return None
            return "trading_state", f"account HALTED ({self.state_reason}): no new orders"
        if reducing:
            return None
        if self.state is TradingState.REDUCING:
            return (
                "trading_state",
                f"account REDUCING ({self.state_reason}): only orders that reduce exposure",
            )
        lock = self.lockouts.get(order.symbol)
        if lock is not None:
            return lock.rule, f"{order.symbol} locked out: {lock.reason}"
        return None

    # --- state -------------------------------------------------------------------------

    def refresh_state(self) -> TradingState:
        """Derive the state from the pause flag, the account lockout and the storage; publish a change."""
        lock = self.lockouts.get("account")
        self._exits_pass = False
        if self.paused:
            target, reason = TradingState.HALTED, self.pause_reason
        elif lock is not None and lock.state is TradingState.HALTED:
            target, reason = lock.state, f"{lock.rule}: {lock.reason}"
        elif self.storage_problem is not None:
            target, reason = TradingState.HALTED, f"storage degraded: {self.storage_problem}"
            self._exits_pass = True
        elif lock is not None:
            target, reason = lock.state, f"{lock.rule}: {lock.reason}"
        elif self.blind_reason:
            target, reason = TradingState.REDUCING, f"broker blind: {self.blind_reason}"
        elif self.stale_marks:
            target, reason = TradingState.REDUCING, f"open P&L unmeasured: {self.stale_marks}"
        else:
            target, reason = TradingState.ACTIVE, "no lockout"
        if target is not self.state:
            self._transition(target, reason)
        else:
            self.state_reason = reason if target is not TradingState.ACTIVE else self.state_reason
        return self.state

    def _transition(self, target: TradingState, reason: str) -> None:
        if target not in STATE_TABLE[self.state]:
            raise InvalidStateTransition("trading state", self.state, target)
        previous, self.state, self.state_reason = self.state, target, reason
        logger.warning("trading state %s -> %s: %s", previous.value, target.value, reason)
        self._bus.publish(
            TradingStateChanged(ts=self._clock.now(), previous=previous, state=target, reason=reason)
        )

    def set_blind(self, reason: str) -> None:
        """The broker's account cannot be observed (``reason``), or can again (""): REDUCING
        while blind, unless a pause or a lockout says more."""
        self.blind_reason = reason
        self.refresh_state()

    def set_stale_marks(self, reason: str) -> None:
        """Held positions' marks are stale (``reason``), or fresh again (""): REDUCING while stale
        (the open-P&L rules measure on old prices), unless a pause or a lockout says more."""
        self.stale_marks = reason
        self.refresh_state()

    def set_paused(self, paused: bool, reason: str) -> None:
        self.paused, self.pause_reason = paused, reason
        self.refresh_state()

    def set_storage_problem(self, problem: str | None) -> None:
        """The books cannot be written (``problem``), or can again (None)."""
        self.storage_problem = problem
        self.refresh_state()

    # --- rule state across restarts -------------------------------------------------------

    def rule_states(self, names: Collection[str] | None = None) -> dict[str, dict[str, Any]]:
        """The rules' exported states (JSON-able), with their kind and whether their warning is
        out: the rules ``names`` (those that exist), or every rule."""
        rules = self._rules
        chosen = rules.items() if names is None else ((n, rules[n]) for n in names if n in rules)
        return {
            name: {"kind": rule.kind, "warned": name in self._warned, **rule.export_state()}
            for name, rule in chosen
        }

    def restore_rule_states(self, saved: Mapping[str, SavedState], today: date) -> int:
        """Give each rule its saved state (an empty one when none was saved, so a rule can start
        what a position needs); a state saved for another kind of rule of the same name is not
        given. Returns how many saved states were taken. A state that does not fit its rule
        raises ``StateError`` naming the rule (a latch forgotten would fire its breach again)."""
        taken = 0
        for name, rule in self._rules.items():
            found = saved.get(name)
            state = {} if found is None or found.state.get("kind", rule.kind) != rule.kind else found.state
            same_day = found is not None and found.trading_day == today
            try:
                rule.restore_state(state, same_day=same_day)
            except (AttributeError, KeyError, TypeError, ValueError, ArithmeticError) as exc:
                raise StateError(
                    f"the saved state of rule {name!r} cannot be restored: {type(exc).__name__}: "
                    f"{str(exc)[:160]}; fix its row in the rule_state table, or delete it to start the "
                    "rule afresh (a breach of today may then fire again)"
                ) from None
            if state:
                taken += 1
            if same_day and state.get("warned"):
                self._warned.add(name)
        return taken

    # --- time ----------------------------------------------------------------------------

    def housekeeping(self, now: datetime) -> None:
        """The daily reset when due, then lockouts whose time is up. Cheap when nothing is due."""
        if now >= self.reset.next_reset:
            self.daily_reset(now)
        if self.lockouts.expire(now):
            self.refresh_state()

    def daily_reset(self, now: datetime) -> None:
        self.reset.roll(now)
        self.pnl.reset_day(self.reset.trading_day(now))
        for rule in self._rules.values():
            rule.reset_daily()
        self.lockouts.clear_daily()
        self._warned.clear()
        self.refresh_state()

    def sweep(self, now: datetime) -> list[Violation]:
        """Re-evaluate every enabled rule (unrealized, grace timers, session end...)."""
        self.housekeeping(now)
        found: list[Violation] = []
        for rule in self._rules.values():
            if not rule.config.enabled:
                continue
            try:
                found.extend(rule.sweep(now))
            except Exception:
                self.rule_fault(rule, "the sweep")
        for violation in found:
            self.emit(violation, None)
        return found

    # --- distance to limits ----------------------------------------------------------------

    def rule_status(self) -> list[RuleStatus]:
        """Every rule's standing; a rule whose ``measure()`` raises is an "error" row with the message."""
        out: list[RuleStatus] = []
        for rule in self._rules.values():
            try:
                out.append(status_of(rule, self.warning_threshold))
            except Exception as exc:
                self.rule_fault(rule, "measuring its limit")
                out.append(error_status(rule, exc))
        return out

    def check_warnings(self, now: datetime | None = None) -> list[LimitWarning]:
        """Warn once per crossing of a rule's warning threshold (re-armed below 90% of it)."""
        now = now or self._clock.now()
        raised: list[LimitWarning] = []
        for status in self.rule_status():
            if not status.enabled or status.kind in NO_WARNING or status.limit <= 0:
                continue
            rule = self._rules[status.rule]
            threshold = rule.config.warning_threshold or self.warning_threshold
            if status.used < threshold * 0.9:
                self._warned.discard(status.rule)
                continue
            if status.used < threshold or status.rule in self._warned:
                continue
            if status.status == "breached":
                self._warned.add(status.rule)  # the violation itself has alerted; no warning after it
                continue
            self._warned.add(status.rule)
            self.warnings += 1
            message = f"{status.rule} at {status.used:.0%} of its limit ({status.detail})"
            logger.warning("risk warning: %s", message)
            warning = LimitWarning(ts=now, rule=status.rule, message=message, used=status.used)
            raised.append(warning)
            if self.on_warning is not None:
                self.on_warning(warning)
        return raised

    def statistics(self) -> EngineStatistics:
        return EngineStatistics(
            state=self.state.value,
            rules=len(self._rules),
            events=self.events,
            checks=self.checks,
            denials=self.denials,
            violations=self.violations,
            shadow_violations=self.shadow_violations,
            faults=self.faults,
            warnings=self.warnings,
        )

    def __repr__(self) -> str:
        return (
            f"RiskEngine(state={self.state.value}, rules={len(self._rules)}, events={self.events}, "
            f"violations={self.violations}, denials={self.denials})"
        )
