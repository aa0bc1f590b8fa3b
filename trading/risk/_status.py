"""A rule's standing against its limit, as the dashboard shows it."""

from __future__ import annotations

from trading.risk.rules.base import Rule
from trading.risk.types import RuleStatus

__all__ = ["NO_WARNING", "error_status", "status_of"]

# Rules whose "used" fraction is not a distance to a limit worth a warning.
NO_WARNING = frozenset({"cooldown_after_loss", "session_hours", "symbol_blocks", "max_order_rate"})


def status_of(rule: Rule, warning_threshold: float) -> RuleStatus:
    """``rule.measure()`` turned into a ``RuleStatus`` (may raise what ``measure`` raises)."""
    cfg = rule.config
    m = rule.measure()
    used = m.value / m.limit if m.limit > 0 else 0.0
    threshold = cfg.warning_threshold or warning_threshold
    if m.breached or used > 1.0 + 1e-9:
        status = "breached"
    elif used >= threshold and cfg.kind not in NO_WARNING:
        status = "warning"
    else:
        status = "ok"
    return RuleStatus(
        rule=rule.name,
        kind=cfg.kind,
        enabled=cfg.enabled,
        mode=cfg.mode,
        action=str(cfg.action),
        value=m.value,
        limit=m.limit,
        used=used,
        status=status if cfg.enabled else "ok",
        unit=m.unit,
        detail=m.detail,
    )


def error_status(rule: Rule, error: Exception) -> RuleStatus:
    """The row of a rule whose ``measure()`` raised ``error``: status "error", the message in ``detail``."""
    cfg = rule.config
    return RuleStatus(
        rule=rule.name,
        kind=cfg.kind,
        enabled=cfg.enabled,
        mode=cfg.mode,
        action=cfg.action.value,
        value=0.0,
        limit=0.0,
        used=0.0,
        status="error",
        detail=f"measure failed: {type(error).__name__}: {error}",
    )
