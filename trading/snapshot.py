"""The ``Snapshot`` schema: the only contract between the desk and the dashboard.

The desk publishes one ``Snapshot`` under the state key ``SNAPSHOT_KEY`` every publish
interval. Everything in it is plain data (numbers, strings, datetimes, tuples and numpy
arrays) so it pickles fast and the dashboard never imports broker or risk internals.
Time series are numpy arrays (epoch seconds and values): a 200,000-point history
pickles in about a millisecond as arrays, against tens of milliseconds as Python objects.

Bump ``SNAPSHOT_VERSION`` on any incompatible change; readers refuse other versions. New
fields come with defaults so code that builds views keeps working; a snapshot pickled before
a field existed lacks it (slots dataclasses), and the desk replaces the file at its start.

Time: every datetime is the desk's clock (simulated in a demo), timezone-aware UTC.
``timezone`` names the exchange time zone the desk's daily reset is set in, for display;
``heartbeat`` and ``clock_speed`` map a wall-clock moment to the desk's clock
(``taken_at + (wall - heartbeat) * clock_speed``) for records stamped in wall time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

__all__ = [
    "HEARTBEAT_KEY",
    "SNAPSHOT_KEY",
    "SNAPSHOT_VERSION",
    "AccountView",
    "DiscrepancyView",
    "HeadroomView",
    "LaneView",
    "LockoutView",
    "OrderView",
    "PositionView",
    "ReconciliationView",
    "RuleView",
    "Series",
    "Snapshot",
    "StrategyView",
    "SymbolHeadroomView",
    "TransactionView",
    "ViolationView",
]

SNAPSHOT_VERSION = 1
SNAPSHOT_KEY = "desk.snapshot"
HEARTBEAT_KEY = "desk.heartbeat"


@dataclass(frozen=True, slots=True)
class Series:
    """A time series: ``times`` in epoch seconds (float64) and ``values`` (float64), same length."""

    times: np.ndarray
    values: np.ndarray

    def __len__(self) -> int:
        return int(self.times.shape[0])

    @classmethod
    def empty(cls) -> Series:
        return cls(np.empty(0, dtype=np.float64), np.empty(0, dtype=np.float64))


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountView:
    cash: float
    equity: float
    buying_power: float
    realized_pnl: float
    unrealized_pnl: float
    commissions: float
    starting_balance: float
    daily_realized_pnl: float
    daily_pnl: float  # realized today + unrealized now, net of today's commissions
    daily_realized_gross: float = 0.0  # realized today before commissions
    daily_commissions: float = 0.0  # commissions paid today
    gross_exposure: float = 0.0  # open positions at their last prices x multiplier, summed absolute


@dataclass(frozen=True, slots=True, kw_only=True)
class PositionView:
    symbol: str
    quantity: float
    avg_price: float
    last_price: float | None
    unrealized_pnl: float
    realized_pnl: float
    strategies: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderView:
    order_id: str
    symbol: str
    side: str
    quantity: float
    filled_quantity: float
    order_type: str
    price: float | None
    stop_price: float | None
    status: str
    strategy: str
    role: str
    created_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class TransactionView:
    transaction_id: str
    strategy: str
    symbol: str
    side: str
    quantity: float
    status: str
    entry_price: float | None
    exit_price: float | None
    take_profit: float | None
    stop_loss: float | None
    realized_pnl: float
    created_at: datetime | None
    closed_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class StrategyView:
    name: str
    trades: int
    wins: int
    losses: int
    realized_pnl: float
    open_transactions: int
    runs: int = 0
    failures: int = 0
    mean_run_ms: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleView:
    """One rule's standing: how much of its limit is used.

    ``used`` is the fraction of the limit consumed (0.0 nothing, 1.0 at the limit, above 1.0
    breached). ``status`` is "ok", "warning" (at or past the warning threshold) or "breached".
    """

    rule: str
    kind: str
    enabled: bool
    mode: str  # "enforce" or "shadow"
    action: str
    value: float
    limit: float
    used: float
    status: str
    unit: str = ""
    detail: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class LockoutView:
    scope: str
    rule: str
    reason: str
    started_at: datetime
    until: datetime | None  # None: until the daily reset
    unlock: str = ""  # what an operator may do about it (risk.yaml's manual_unlock), said up front


@dataclass(frozen=True, slots=True, kw_only=True)
class ViolationView:
    ts: datetime
    rule: str
    message: str
    action: str
    severity: str
    shadow: bool
    symbol: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SymbolHeadroomView:
    """One symbol's room for a new entry (``trading.risk.SymbolHeadroom``)."""

    symbol: str
    held: float
    contracts_allowed: float | None  # most contracts a new entry may take now; None: nothing bounds it
    bound_by: str  # what sets contracts_allowed, in words
    risk_per_contract: float | None  # loss of one contract at the typical stop, commissions in
    stop_distance: float | None
    stop_source: str = ""  # "recent trades", "working stop" or ""


@dataclass(frozen=True, slots=True, kw_only=True)
class HeadroomView:
    """The room the enforced risk limits leave now (``trading.risk.Headroom``); None: no such rule."""

    measured_at: datetime
    daily_loss_limit: float | None
    daily_loss_used: float
    daily_loss_left: float | None
    drawdown_floor: float | None
    drawdown_distance: float | None  # equity above the floor
    drawdown_max: float | None  # the distance at the high-water mark
    equity: float
    contracts_used: float
    contracts_limit: float | None
    reset_at: datetime
    locked: bool
    lockout_until: datetime | None  # None while locked: until the daily reset
    lockout_reason: str
    symbols: tuple[SymbolHeadroomView, ...] = ()
    max_compliant_profit_today: float | None = None  # the consistency rule's figure; None: no such rule


@dataclass(frozen=True, slots=True, kw_only=True)
class LaneView:
    lane: str
    workers: int
    queued: int
    running: int
    max_queue: int
    submitted: int
    completed: int
    failed: int
    timeouts: int
    cancelled: int
    dropped: int
    p50_wait_ms: float = 0.0
    p99_wait_ms: float = 0.0
    p50_run_ms: float = 0.0
    p99_run_ms: float = 0.0


@dataclass(frozen=True, slots=True)
class DiscrepancyView:
    subject: str  # "position ES", "cash", "transaction T-3 (ma_es ES)"
    found: str
    repair: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ReconciliationView:
    """The desk's start: what it restored from the journal and what it repaired."""

    at: datetime
    broker: str  # the side the journal was compared with
    working_orders: int
    positions: int
    cash: float
    transactions: int  # active transactions restored
    risk: str = ""
    discrepancies: tuple[DiscrepancyView, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Snapshot:
    version: int = SNAPSHOT_VERSION
    taken_at: datetime
    heartbeat: float  # epoch seconds of the desk's wall clock when taken
    desk_pid: int
    started_at: datetime
    trading_state: str  # ACTIVE / REDUCING / HALTED
    state_reason: str
    paused: bool
    account: AccountView
    equity_curve: Series
    daily_pnl: Series  # one point per trading day (day start epoch, P&L)
    positions: tuple[PositionView, ...] = ()
    open_orders: tuple[OrderView, ...] = ()
    transactions: tuple[TransactionView, ...] = ()  # recent, newest first
    strategies: tuple[StrategyView, ...] = ()
    rules: tuple[RuleView, ...] = ()
    lockouts: tuple[LockoutView, ...] = ()
    violations: tuple[ViolationView, ...] = ()  # recent, newest first, enforced and shadow
    lanes: tuple[LaneView, ...] = ()
    lane_history: dict[str, dict[str, Series]] = field(default_factory=dict)  # lane -> metric -> series
    activity_dropped: int = 0
    next_reset: datetime | None = None
    # why the last edit of the risk file was refused (invalid, or held by the tamper lock); "" if none
    config_status: str = ""
    prices: dict[str, float] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    timezone: str = "UTC"  # IANA name of the exchange time zone (the risk reset's), for display
    clock_speed: float = 1.0  # desk seconds per wall second (10 in the demo)
    headroom: HeadroomView | None = None
    # what this desk's start restored and repaired (None: not known, e.g. a desk built without it)
    reconciliation: ReconciliationView | None = None
    # why the journal holds unwritten steps (disk full, I/O error): the desk is degraded; "" if not
    storage_problem: str = ""

    @property
    def shadow_hits(self) -> tuple[ViolationView, ...]:
        return tuple(v for v in self.violations if v.shadow)
