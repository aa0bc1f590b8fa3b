"""Turn the desk's live components into a ``Snapshot`` (plain data for the dashboard)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, TypeVar

from trading.model import Order, Position, Transaction
from trading.snapshot import (
    AccountView,
    LaneView,
    LockoutView,
    OrderView,
    PositionView,
    RuleView,
    Series,
    Snapshot,
    StrategyView,
    TransactionView,
    ViolationView,
)

V = TypeVar("V")

__all__ = ["StrategyTally", "lane_views", "order_view", "position_view", "rule_views", "transaction_view"]


@dataclass(slots=True)
class StrategyTally:
    """Running per-strategy figures, updated as the strategy's transactions close."""

    name: str
    trades: int = 0
    wins: int = 0
    losses: int = 0
    realized_pnl: float = 0.0
    seen: set[str] = field(default_factory=set)

    def record_close(self, txn: Transaction) -> None:
        if txn.transaction_id in self.seen:
            return
        self.seen.add(txn.transaction_id)
        self.trades += 1
        self.realized_pnl += txn.realized_pnl
        if txn.realized_pnl > 0:
            self.wins += 1
        elif txn.realized_pnl < 0:
            self.losses += 1


def position_view(p: Position, strategies: Iterable[str] = ()) -> PositionView:
    return PositionView(
        symbol=p.symbol,
        quantity=p.quantity,
        avg_price=p.avg_price,
        last_price=p.last_price,
        unrealized_pnl=p.unrealized_pnl(),
        realized_pnl=p.realized_pnl,
        strategies=tuple(sorted(set(strategies) | p.strategies)),
    )


def _plain(value: Any) -> Any:
    """Enums become their value so the snapshot holds only plain data."""
    return getattr(value, "value", value)


def _view(view_cls: type[V], source: Any) -> V:
    """Build a view from an object that carries (at least) the view's field names."""
    return view_cls(**{f.name: _plain(getattr(source, f.name)) for f in fields(view_cls)})  # type: ignore[arg-type]


def order_view(order: Order) -> OrderView:
    return _view(OrderView, order)


def transaction_view(txn: Transaction) -> TransactionView:
    return _view(TransactionView, txn)


def rule_views(statuses: Iterable[Any]) -> tuple[RuleView, ...]:
    """The risk manager's ``RuleStatus`` objects (same field names) as ``RuleView``s."""
    return tuple(_view(RuleView, s) for s in statuses)


def lockout_views(lockouts: Iterable[Any]) -> tuple[LockoutView, ...]:
    return tuple(_view(LockoutView, lk) for lk in lockouts)


def violation_views(violations: Iterable[Any]) -> tuple[ViolationView, ...]:
    return tuple(_view(ViolationView, v) for v in violations)


def lane_views(stats: Any) -> tuple[LaneView, ...]:
    """``ExecutorStatistics`` to one ``LaneView`` per lane (``LaneStatistics`` has every field)."""
    return tuple(_view(LaneView, lane) for lane in stats.lanes)


@dataclass(frozen=True, slots=True, kw_only=True)
class SnapshotParts:
    """Everything a snapshot is made of, gathered on the event loop."""

    taken_at: datetime
    started_at: datetime
    trading_state: str
    state_reason: str
    paused: bool
    account: AccountView
    equity_curve: Series
    daily_pnl: Series
    positions: tuple[PositionView, ...]
    open_orders: tuple[OrderView, ...]
    transactions: tuple[TransactionView, ...]
    strategies: tuple[StrategyView, ...]
    rules: tuple[RuleView, ...]
    lockouts: tuple[LockoutView, ...]
    violations: tuple[ViolationView, ...]
    lanes: tuple[LaneView, ...]
    lane_history: Mapping[str, Mapping[str, Series]]
    activity_dropped: int
    next_reset: datetime | None
    prices: Mapping[str, float]
    extra: Mapping[str, Any]

    def build(self) -> Snapshot:
        return Snapshot(
            taken_at=self.taken_at,
            heartbeat=time.time(),
            desk_pid=os.getpid(),
            started_at=self.started_at,
            trading_state=self.trading_state,
            state_reason=self.state_reason,
            paused=self.paused,
            account=self.account,
            equity_curve=self.equity_curve,
            daily_pnl=self.daily_pnl,
            positions=self.positions,
            open_orders=self.open_orders,
            transactions=self.transactions,
            strategies=self.strategies,
            rules=self.rules,
            lockouts=self.lockouts,
            violations=self.violations,
            lanes=self.lanes,
            lane_history={k: dict(v) for k, v in self.lane_history.items()},
            activity_dropped=self.activity_dropped,
            next_reset=self.next_reset,
            prices=dict(self.prices),
            extra=dict(self.extra),
        )
