"""The periodic risk sweep: config changes, the reset, timers, unrealized checks, warnings."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from trading.risk.manager import RiskManager

__all__ = ["run_sweep"]


def run_sweep(rm: RiskManager) -> dict[str, Any]:
    """One sweep; returns the executor's job result: ``{"summary": str, "details": {...}}``."""
    started = time.perf_counter()
    now = rm.clock.now()
    value_before = rm.pnl.equity
    actions_before = rm.enforcer.actions
    reloaded = rm.check_config_changed()
    found = rm.engine.sweep(now)
    warnings = rm.engine.check_warnings(now)
    taken = rm.enforcer.actions - actions_before
    actions = list(rm.enforcer.journal)[-taken:] if taken else []
    value_after = rm.pnl.equity
    evaluated = sum(1 for rule in rm.engine.rules.values() if rule.config.enabled)
    summary = (
        f"{evaluated} rules evaluated, {len(found)} violation(s), {len(actions)} action(s), "
        f"state {rm.state.value}, equity {value_before:,.2f} -> {value_after:,.2f}"
    )
    return {
        "summary": summary,
        "details": {
            "account": rm.account,
            "rules_evaluated": evaluated,
            "violations": [f"{v.rule}: {v.message}" for v in found],
            "warnings": [w.message for w in warnings],
            "actions": actions,
            "value_before": value_before,
            "value_after": value_after,
            "state": rm.state.value,
            "config_reloaded": reloaded,
            "duration_ms": (time.perf_counter() - started) * 1000.0,
        },
    }
