"""What of the bus goes into the activity log: fills, denials, risk decisions, trades.

Levels say how urgent a line is for an operator: routine enforcement (a cooldown, a position
closed or reduced, a lockout) is WARNING; a flatten or a halt is CRITICAL; a shadow-mode
rule's "would have" record and a return to ACTIVE are INFO.
"""

from __future__ import annotations

from trading.bus import EventBus
from trading.model import (
    AlertRaised,
    EnforcementExecuted,
    LockoutEnded,
    LockoutStarted,
    OrderDenied,
    OrderFilled,
    OrderRejected,
    RuleViolated,
    TradingState,
    TradingStateChanged,
    TransactionClosed,
    TransactionOpened,
)
from trading.storage import ActivityLog

__all__ = ["enforcement_level", "state_level", "subscribe_activity", "violation_level"]

_CRITICAL_ACTIONS = frozenset({"flatten", "flatten_and_lock"})
_STATE_LEVELS = {
    TradingState.ACTIVE: "INFO",
    TradingState.REDUCING: "WARNING",
    TradingState.HALTED: "CRITICAL",
}


def violation_level(action: str, *, shadow: bool) -> str:
    """INFO for a shadow record, CRITICAL when the action flattens, else WARNING."""
    if shadow:
        return "INFO"
    return "CRITICAL" if action in _CRITICAL_ACTIONS else "WARNING"


def enforcement_level(action: str) -> str:
    """An enforcement step: CRITICAL for a flatten, WARNING for close, reduce and lock."""
    return "CRITICAL" if action in _CRITICAL_ACTIONS else "WARNING"


def state_level(state: TradingState) -> str:
    """HALTED is CRITICAL, REDUCING WARNING, back to ACTIVE INFO."""
    return _STATE_LEVELS.get(state, "WARNING")


def subscribe_activity(bus: EventBus, log: ActivityLog) -> None:
    def filled(e: OrderFilled) -> None:
        log.log_activity(
            "INFO",
            "broker",
            f"{e.side.value} {e.quantity:g} {e.symbol} @ {e.price:g} ({e.role.value}, {e.strategy})",
            order_id=e.order_id,
            commission=e.commission,
        )

    def denied(e: OrderDenied) -> None:
        log.log_activity("WARNING", "risk", f"order {e.order_id} {e.symbol} denied: {e.reason}", rule=e.rule)

    def rejected(e: OrderRejected) -> None:
        log.log_activity("WARNING", "broker", f"order {e.order_id} {e.symbol} rejected: {e.reason}")

    def violated(e: RuleViolated) -> None:
        prefix = "shadow: would have" if e.shadow else "action"
        log.log_activity(
            violation_level(str(e.action), shadow=e.shadow),
            "risk",
            f"{e.rule}: {e.message} ({prefix} {e.action})",
            rule=e.rule,
            shadow=e.shadow,
        )

    def state_changed(e: TradingStateChanged) -> None:
        log.log_activity(
            state_level(e.state), "risk", f"trading state {e.previous.value} -> {e.state.value}: {e.reason}"
        )

    def lockout(e: LockoutStarted | LockoutEnded) -> None:
        if isinstance(e, LockoutStarted):
            until = e.until.isoformat() if e.until else "the daily reset"
            log.log_activity(
                "WARNING", "risk", f"{e.scope} locked out until {until}: {e.reason}", rule=e.rule
            )
        else:
            log.log_activity("INFO", "risk", f"{e.scope} lockout ended: {e.reason}")

    def enforced(e: EnforcementExecuted) -> None:
        log.log_activity(
            enforcement_level(str(e.action)),
            "risk",
            f"{e.action} by {e.rule}: {e.result} ({e.reason})",
            symbol=e.symbol,
        )

    def trade(e: TransactionOpened | TransactionClosed) -> None:
        if isinstance(e, TransactionOpened):
            log.log_activity(
                "INFO",
                "trades",
                f"{e.strategy} opened {e.side.value} {e.quantity:g} {e.symbol} @ {e.entry_price:g}",
            )
        else:
            log.log_activity("INFO", "trades", f"{e.strategy} closed {e.symbol}: P&L {e.realized_pnl:+,.2f}")

    bus.subscribe(OrderFilled, filled)
    bus.subscribe(OrderDenied, denied)
    bus.subscribe(OrderRejected, rejected)
    bus.subscribe(RuleViolated, violated)
    bus.subscribe(TradingStateChanged, state_changed)
    bus.subscribe(LockoutStarted, lockout)
    bus.subscribe(LockoutEnded, lockout)
    bus.subscribe(EnforcementExecuted, enforced)
    _subscribe_config_refusals(bus, log)
    bus.subscribe(TransactionOpened, trade)
    bus.subscribe(TransactionClosed, trade)


def _subscribe_config_refusals(bus: EventBus, log: ActivityLog) -> None:
    """A refused risk file edit (invalid, or held by the tamper lock) goes into the activity log.
    Only the "config" alerts: the enforcer's other alerts repeat a violation already logged."""

    def config_alert(e: AlertRaised) -> None:
        if e.rule == "config":
            log.log_activity(str(e.severity.value), "risk", e.message, rule=e.rule)

    bus.subscribe(AlertRaised, config_alert)
