"""What every rule is: a frozen config model and a ``Rule`` that turns events into violations.

A rule declares the event types it listens to (``handlers()``); the engine calls it only
for those. A rule may also vet orders before the broker sees them (``check``), re-evaluate
on the periodic sweep (``sweep``) and report how close the account is to its limit
(``measure``). Rules never raise on purpose: a finding is a ``Violation`` value.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from trading.clock import Clock
from trading.config_types import Flag, Number
from trading.model import Event, Instrument, Order, Position, Severity
from trading.risk.actions import Action, Remedy
from trading.risk.loosening import Looser
from trading.risk.pnl import PnLTracker
from trading.risk.reset import ResetScheduler
from trading.risk.timers import TimerManager
from trading.risk.types import RecountFills, Violation

__all__ = ["Measure", "Rule", "RuleConfig", "RuleContext"]

Mode = Literal["enforce", "shadow"]


class RuleConfig(BaseModel):
    """Fields every rule has. Subclasses narrow ``action`` to what the rule can do (a ``Literal``
    of ``Action`` members: any other value is refused at load, with the allowed list).

    Every field declares which change loosens the rule (``Looser``, ``trading.risk.loosening``):
    the tamper lock refuses such a change while the desk runs. A subclass that redefines a field
    declares its direction again."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Annotated[str, Looser.NEVER]
    enabled: Annotated[Flag, Looser.OFF] = True
    mode: Annotated[Mode, Looser.SHADOW] = "enforce"
    action: Annotated[Action, Looser.MILDER] = Action.ALERT
    warning_threshold: Annotated[Number | None, Looser.HIGHER] = Field(default=None, gt=0, le=1)
    description: Annotated[str, Looser.NEVER] = ""


@dataclass(frozen=True, slots=True)
class Measure:
    """How close a rule is to its limit: ``value`` against ``limit`` in ``unit``."""

    value: float
    limit: float
    unit: str = "$"
    detail: str = ""
    breached: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleContext:
    """What rules may read. ``open_orders(symbol)`` lists the broker's working orders;
    ``positions()`` the broker's open positions now: after every fill of the step whose events
    are being delivered (the P&L tracker has seen them only up to the current event).
    ``instrument(symbol)`` is the broker's instrument (multiplier, commission), None where no
    broker is wired; ``peers()`` the engine's rules (a rule that measures room left by others)."""

    clock: Clock
    pnl: PnLTracker
    timers: TimerManager
    reset: ResetScheduler
    starting_balance: Decimal | float  # the account's (exact money from the broker)
    open_orders: Callable[[str | None], Sequence[Order]]
    positions: Callable[[], Mapping[str, Position]]
    instrument: Callable[[str], Instrument] | None = None
    peers: Callable[[], Mapping[str, Rule]] | None = None


class Rule:
    kind: ClassVar[str] = ""
    config_type: ClassVar[type[RuleConfig]] = RuleConfig
    checks_orders: ClassVar[bool] = False  # True when ``check`` can deny
    # True for a loss rule (daily loss, drawdown, weekly loss): risk.yaml's manual_unlock decides
    # whether an operator may end its lockout early (trading.risk.unlock_policy)
    loss_lockout: ClassVar[bool] = False

    def __init__(self, name: str, config: RuleConfig, ctx: RuleContext) -> None:
        self.name = name
        self.config = config
        self.ctx = ctx
        self.pnl = ctx.pnl
        self.shadow = config.mode == "shadow"
        self.symbols: frozenset[str] = frozenset()  # non-empty: symbol events of other symbols skip this rule
        self.faults = 0
        self.fired = 0

    # --- what subclasses override -----------------------------------------------

    def handlers(self) -> dict[type[Event], Callable[[Any], Violation | None]]:
        """Event type -> bound method; the engine indexes its dispatch on this."""
        return {}

    def check(self, order: Order, reducing: bool, now: datetime) -> str | None:
        """A reason to deny ``order``, or None. ``reducing``: it only reduces exposure."""
        return None

    def on_passed(self, order: Order, now: datetime) -> None:
        """``order`` passed every pre-trade check (rate counters note it here)."""

    def sweep(self, now: datetime) -> list[Violation]:
        """Re-evaluate on the periodic sweep (timers, unrealized, session end)."""
        return []

    def measure(self) -> Measure:
        return Measure(0.0, 0.0)

    def reset_daily(self) -> None:
        """The daily reset: clear daily counters and latches."""

    def export_state(self) -> dict[str, Any]:
        """Every latch, in-force state, timer and mark that a desk restart must keep (JSON-able).
        Counts and money are not here: a restart recounts them from the journal."""
        return {}

    def restore_state(self, state: Mapping[str, Any], *, same_day: bool) -> None:
        """Take back what ``export_state`` gave. ``same_day``: it was saved in the current trading
        day (a daily latch comes back only then; a high-water mark or a position's latch always)."""

    def recount(self, fills: RecountFills, now: datetime) -> None:
        """After a restart: the fills as the journal committed them (the truth), today's and each
        finished day's of the last month, oldest first, for a rule that counts them (trades per
        window, per week)."""

    # --- helpers -----------------------------------------------------------------

    def violation(
        self,
        message: str,
        *,
        remedy: Remedy,
        symbol: str | None = None,
        severity: Severity = Severity.CRITICAL,
        ts: datetime | None = None,
        **values: Any,
    ) -> Violation:
        """A finding of this rule; ``values`` are the numbers recorded with it."""
        self.fired += 1
        return Violation(
            ts=ts or self.ctx.clock.now(),
            rule=self.name,
            message=message,
            remedy=remedy,
            severity=severity,
            symbol=symbol,
            values=values,
        )

    def __repr__(self) -> str:
        cfg = self.config
        return f"{type(self).__name__}({self.name!r}, mode={cfg.mode}, action={cfg.action.value})"


def money(value: float | Decimal) -> str:
    """1012.5 -> '1,012.50'; -1012.5 -> '-1,012.50' (a Decimal is rounded half to even)."""
    return f"{value:,.2f}"
