"""RiskSweep: the periodic risk sweep (config changes, the reset, timers, unrealized checks, warnings).

The ``RiskManager`` holds one and runs it from the executor's risk lane. Its parts come in
through the constructor; it reads the enforcer's journal through ``actions_since``. What a
sweep decides is one risk record; after it, the rule states that changed (high-water marks,
windows, timers) are written, off the loop.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from trading.clock import Clock
from trading.risk.enforcement import Enforcer
from trading.risk.engine import RiskEngine
from trading.risk.pnl import PnLTracker
from trading.risk.recorder import RiskRecorder

__all__ = ["RiskSweep"]


class RiskSweep:
    """One sweep: reload a changed config, re-evaluate every rule, check warnings, report the job."""

    def __init__(
        self,
        clock: Clock,
        engine: RiskEngine,
        enforcer: Enforcer,
        pnl: PnLTracker,
        recorder: RiskRecorder,
        *,
        account: str,
        reload_if_changed: Callable[[], bool],
    ) -> None:
        self._clock = clock
        self._engine = engine
        self._enforcer = enforcer
        self._pnl = pnl
        self._recorder = recorder
        self._account = account
        self._reload_if_changed = reload_if_changed
        self.runs = 0

    def run(self, *, reloaded: bool | None = None) -> dict[str, Any]:
        """One sweep; returns the executor's job result: ``{"summary": str, "details": {...}}``.
        ``reloaded``: the caller already polled the config file (off the loop); None: poll it here."""
        self.runs += 1
        started = time.perf_counter()
        engine, enforcer = self._engine, self._enforcer
        now = self._clock.now()
        value_before = self._pnl.equity
        actions_before = enforcer.actions
        if reloaded is None:
            reloaded = self._reload_if_changed()
        with self._recorder.unit():
            found = engine.sweep(now)
            warnings = engine.check_warnings(now)
        self._recorder.save_states()
        actions = enforcer.actions_since(actions_before)
        value_after = self._pnl.equity
        evaluated = sum(1 for rule in engine.rules.values() if rule.config.enabled)
        state = engine.state.value
        summary = (
            f"{evaluated} rules evaluated, {len(found)} violation(s), {len(actions)} action(s), "
            f"state {state}, equity {value_before:,.2f} -> {value_after:,.2f}"
        )
        return {
            "summary": summary,
            "details": {
                "account": self._account,
                "rules_evaluated": evaluated,
                "violations": [f"{v.rule}: {v.message}" for v in found],
                "warnings": [w.message for w in warnings],
                "actions": actions,
                "value_before": value_before,
                "value_after": value_after,
                "state": state,
                "config_reloaded": reloaded,
                "duration_ms": (time.perf_counter() - started) * 1000.0,
            },
        }

    def __repr__(self) -> str:
        return f"RiskSweep(account={self._account!r}, runs={self.runs})"
