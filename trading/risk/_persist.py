"""The risk state as one JSON-able dict: a view for the key-value table, and the import of a
version-1 saved state.

The truth after a restart is elsewhere: today's P&L counters are recounted from the journal's
fills, lockouts come from the ``lockouts`` table and every rule's latches, timers and marks
from the ``rule_state`` table (written with each violation, and at every sweep). The dict
below is what the desk still publishes beside its snapshot, for people to read. A version-1
database kept only this dict: ``import_risk_state`` takes its rule states once, when the
``rule_state`` table is still empty.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date
from typing import Any

from trading.risk.engine import RiskEngine
from trading.risk.pnl import PnLTracker

__all__ = ["STATE_VERSION", "export_risk_state", "import_risk_state"]

logger = logging.getLogger(__name__)

STATE_VERSION = 2


def export_risk_state(pnl: PnLTracker, engine: RiskEngine) -> dict[str, Any]:
    return {
        "version": STATE_VERSION,
        "trading_day": pnl.trading_day.isoformat(),
        "daily_realized": str(pnl.daily_realized),
        "daily_commissions": str(pnl.daily_commissions),
        "daily_closed_trades": pnl.daily_closed_trades,
        "rules": engine.rule_states(),
    }


class _Saved:
    """A version-1 rule state, shaped like a ``rule_state`` row."""

    def __init__(self, trading_day: date, state: Mapping[str, Any]) -> None:
        self.trading_day: date | None = trading_day
        self.state = dict(state)


def import_risk_state(engine: RiskEngine, state: Mapping[str, Any], today: date) -> bool:
    """Take the rule states of a version-1 saved state (``{"version": 1, "pnl": {...},
    "rules": {...}}``); True when they were saved today. Its P&L counters are not taken: the
    journal's fills are the truth. ``KeyError``/``TypeError``/``ValueError`` on a damaged one."""
    if state.get("version") != 1:
        logger.warning("risk state version %r is not 1: not imported", state.get("version"))
        return False
    saved_day = date.fromisoformat(state["pnl"]["trading_day"])
    rules = state.get("rules", {})
    taken = engine.restore_rule_states({name: _Saved(saved_day, s) for name, s in rules.items()}, today)
    logger.warning(
        "imported %d rule state(s) of a version-1 saved risk state (day %s)%s",
        taken,
        saved_day,
        "" if saved_day == today else ": a past day, so only what outlasts a day",
    )
    return saved_day == today
