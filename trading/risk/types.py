"""Plain values the risk package hands around: violations, warnings, rule standings, lockouts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from trading.model import Severity, TradingState

__all__ = ["LimitWarning", "Lockout", "RiskStatistics", "RuleStatus", "Violation", "ViolationStore"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Violation:
    """A rule's finding that a limit was broken: a value, never an exception.

    ``action`` is what enforcement should do (``flatten_and_lock``, ``close_position``...);
    ``values`` holds the numbers that broke the limit. ``shadow`` is set by the engine for
    rules in shadow mode: then the violation is recorded and nothing is done.
    """

    ts: datetime
    rule: str
    message: str
    action: str
    severity: Severity = Severity.CRITICAL
    shadow: bool = False
    symbol: str | None = None
    values: dict[str, Any] = field(default_factory=dict)


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
    ``status`` is "ok", "warning" (at or past the warning threshold) or "breached".
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


class ViolationStore(Protocol):
    """What ``trading.storage.ViolationRepository`` provides."""

    def add(
        self,
        *,
        ts: datetime,
        rule: str,
        message: str,
        action: str,
        severity: str,
        shadow: bool,
        symbol: str | None,
        values: dict[str, Any],
        event: str,
    ) -> Any: ...

    def recent(self, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]: ...
