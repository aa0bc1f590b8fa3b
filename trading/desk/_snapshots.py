"""Turn the desk's live components into a ``Snapshot`` (plain data for the dashboard)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

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


def order_view(o: Order) -> OrderView:
    return OrderView(
        order_id=o.order_id,
        symbol=o.symbol,
        side=o.side.value,
        quantity=o.quantity,
        filled_quantity=o.filled_quantity,
        order_type=o.order_type.value,
        price=o.price,
        stop_price=o.stop_price,
        status=o.status.value,
        strategy=o.strategy,
        role=o.role.value,
        created_at=o.created_at,
    )


def transaction_view(t: Transaction) -> TransactionView:
    return TransactionView(
        transaction_id=t.transaction_id,
        strategy=t.strategy,
        symbol=t.symbol,
        side=t.side.value,
        quantity=t.quantity,
        status=t.status.value,
        entry_price=t.entry_price,
        exit_price=t.exit_price,
        take_profit=t.take_profit,
        stop_loss=t.stop_loss,
        realized_pnl=t.realized_pnl,
        created_at=t.created_at,
        closed_at=t.closed_at,
    )


def _enum_value(value: Any) -> str:
    return str(getattr(value, "value", value))


def rule_views(statuses: Iterable[Any]) -> tuple[RuleView, ...]:
    return tuple(
        RuleView(
            rule=s.rule,
            kind=s.kind,
            enabled=s.enabled,
            mode=_enum_value(s.mode),
            action=_enum_value(s.action),
            value=float(s.value),
            limit=float(s.limit),
            used=float(s.used),
            status=s.status,
            unit=s.unit,
            detail=s.detail,
        )
        for s in statuses
    )


def lockout_views(lockouts: Iterable[Any]) -> tuple[LockoutView, ...]:
    return tuple(
        LockoutView(scope=lk.scope, rule=lk.rule, reason=lk.reason, started_at=lk.started_at, until=lk.until)
        for lk in lockouts
    )


def violation_views(violations: Iterable[Any]) -> tuple[ViolationView, ...]:
    return tuple(
        ViolationView(
            ts=v.ts,
            rule=v.rule,
            message=v.message,
            action=_enum_value(v.action),
            severity=_enum_value(v.severity),
            shadow=v.shadow,
            symbol=v.symbol,
        )
        for v in violations
    )


def lane_views(stats: Any) -> tuple[LaneView, ...]:
    """``ExecutorStatistics`` to one ``LaneView`` per lane."""
    views = []
    for lane in stats.lanes:
        views.append(
            LaneView(
                lane=lane.lane,
                workers=lane.workers,
                queued=lane.queued,
                running=lane.running,
                max_queue=lane.max_queue,
                submitted=lane.submitted,
                completed=lane.completed,
                failed=lane.failed,
                timeouts=lane.timeouts,
                cancelled=lane.cancelled,
                dropped=lane.dropped,
                p50_wait_ms=lane.p50_wait_ms,
                p99_wait_ms=lane.p99_wait_ms,
                p50_run_ms=lane.p50_run_ms,
                p99_run_ms=lane.p99_run_ms,
            )
        )
    return tuple(views)


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
