"""What of the risk manager survives a desk restart, as one JSON-able dict.

Lockouts already live in SQLite. This adds the rest a restart must not reset: today's P&L
counters (or restarting the desk would wipe a daily loss), the equity high-water mark of
every trailing drawdown, and the trade-frequency windows. The desk stores the dict in its
key-value table at every publish and gives it back on start.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from trading.risk.engine import RiskEngine
from trading.risk.pnl import PnLTracker

__all__ = ["STATE_VERSION", "export_risk_state", "restore_risk_state"]

logger = logging.getLogger(__name__)

STATE_VERSION = 1


def export_risk_state(pnl: PnLTracker, engine: RiskEngine) -> dict[str, Any]:
    rules = {name: state for name, rule in engine.rules.items() if (state := rule.export_state())}
    return {"version": STATE_VERSION, "pnl": pnl.export_state(), "rules": rules}


def restore_risk_state(pnl: PnLTracker, engine: RiskEngine, state: Mapping[str, Any]) -> bool:
    """Restore ``state``; True when today's counters came back (same trading day).

    Rule state is restored only with today's counters: windows and latches are daily.
    The trailing drawdown's high-water mark is the exception and always comes back."""
    if state.get("version") != STATE_VERSION:
        logger.warning(
            "risk state version %r is not %d: starting the day's counters at zero",
            state.get("version"),
            STATE_VERSION,
        )
        return False
    same_day = pnl.restore_state(state["pnl"])
    rules = engine.rules
    for name, saved in state.get("rules", {}).items():
        rule = rules.get(name)
        if rule is None:
            continue  # the rule was removed from the config since
        if same_day or "high_water" in saved:
            rule.restore_state(saved if same_day else {"high_water": saved["high_water"]})
    logger.info(
        "risk state restored: day %s, daily net %.2f, %d rule states%s",
        pnl.trading_day,
        pnl.daily_net,
        len(state.get("rules", {})),
        "" if same_day else " (new trading day)",
    )
    return same_day
