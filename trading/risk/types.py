"""Plain values the risk package hands around: violations, warnings, rule standings, lockouts."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from trading.model import FillRecord, Severity, TradingState
from trading.risk.actions import Action, Remedy, remedy_parameters

__all__ = [
    "LimitWarning",
    "Lockout",
    "RecountFills",
    "RiskStatistics",
    "RuleStatus",
    "Violation",
    "ViolationRecord",
]


@dataclass(frozen=True, slots=True)
class RecountFills:
    """What a restart hands the rules that count fills: the journal's fills (the truth), by
    trading day, oldest first. ``today``: the current trading day's; ``finished``: each finished
    trading day's in the recount window (the last month), oldest day first."""

    today: Sequence[FillRecord]
    finished: Mapping[date, Sequence[FillRecord]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class Violation:
    """A rule's finding that a limit was broken: a value, never an exception.

    ``remedy`` is what enforcement should do, with its parameters as typed fields
    (``Cooldown(seconds=120.0)``, ``ClosePosition(symbol="ES")``); ``action`` is its ``Action``.
    ``values`` holds the numbers that broke the limit, for the record: enforcement never reads
    them. ``shadow`` is set by the engine for rules in shadow mode: then the violation is
    recorded and nothing is done.
    """

    ts: datetime
    rule: str
    message: str
    remedy: Remedy
    severity: Severity = Severity.CRITICAL
    shadow: bool = False
    symbol: str | None = None
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def action(self) -> Action:
        return self.remedy.action

    def record(self) -> ViolationRecord:
        """What is published, stored and shown: the values with the remedy's parameters."""
        return ViolationRecord(
            ts=self.ts,
            rule=self.rule,
            message=self.message,
            action=str(self.remedy.action),  # plain text, as the database keeps it
            severity=self.severity,
            shadow=self.shadow,
            symbol=self.symbol,
            values={**self.values, **remedy_parameters(self.remedy)},
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ViolationRecord:
    """A violation as history: plain values (the action as text), as the database keeps it."""

    ts: datetime
    rule: str
    message: str
    action: str
    severity: Severity
    shadow: bool
    symbol: str | None
    values: dict[str, Any]

    def plain_values(self) -> dict[str, Any]:
        """JSON-safe copies of ``values`` (exact money as a JSON number, datetimes as text,
        non-finite floats as text). The record is for people: the decision was made exactly."""
        out: dict[str, Any] = {}
        for key, value in self.values.items():
            if isinstance(value, Decimal):
                value = float(value)
            if isinstance(value, float) and not math.isfinite(value):
                out[key] = str(value)
            elif isinstance(value, (str, int, float, bool)) or value is None:
                out[key] = value
            else:
                out[key] = str(value)
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class LimitWarning:
    """A rule crossed its warning threshold (80% of its limit by default)."""

    ts: datetime
    rule: str
    message: str
    used: float


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleStatus:
    """How close the account is to one rule's limit (mirrors ``trading.snapshot.RuleView``).

    ``used`` is the fraction of the limit consumed: 0.0 nothing, 1.0 at the limit.
    ``status`` is "ok", "warning" (at or past the warning threshold), "breached", or "error"
    when the rule's ``measure()`` raised (then ``detail`` holds the error and the numbers are 0).
    """

    rule: str
    kind: str
    enabled: bool
    mode: str
    action: str
    value: float
    limit: float
    used: float
    status: str
    unit: str = ""
    detail: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Lockout:
    """New entries are refused for ``scope`` ("account" or a symbol) until ``until``.

    ``until`` None means until the next daily reset. ``state`` is what the lockout imposes
    on the account: REDUCING (only exposure-reducing orders pass) or HALTED (none pass).
    """

    scope: str
    rule: str
    reason: str
    started_at: datetime
    until: datetime | None
    state: TradingState = TradingState.HALTED


@dataclass(frozen=True, slots=True)
class RiskStatistics:
    state: str
    rules: int
    events: int
    checks: int
    denials: int
    violations: int
    shadow_violations: int
    rule_faults: int
    enforcement_actions: int
    enforcement_suppressed: int
    warnings: int
    lockouts: int
    reloads: int
    reload_failures: int
    sweeps: int
