"""``SnapshotBuilder``: what the dashboard sees, gathered on the event loop.

It owns what exists only for the dashboard: per-strategy tallies and the recent transactions
(fed by ``TransactionOpened``/``TransactionClosed``, recovered from the database at start),
the equity curve (one point per bar close) and the executor's lane history (one point per
publish). ``build()`` reads the live components it was given and returns a ``Snapshot`` of
plain data (with the start's reconciliation report and, while the journal holds unwritten
steps, why: the desk is degraded); writing it is someone else's job.
"""

from __future__ import annotations

import os
import statistics
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from trading.broker import DeskBroker
from trading.bus import EventBus
from trading.clock import Clock
from trading.desk._series import SeriesBuffer
from trading.desk._snapshots import (
    account_view,
    headroom_view,
    lane_views,
    lockout_views,
    order_view,
    position_view,
    rule_views,
    transaction_view,
    violation_views,
)
from trading.desk.config import DeskConfig
from trading.model import Transaction, TransactionClosed, TransactionOpened, TransactionStatus
from trading.risk import RiskManager
from trading.risk.pnl import DayPnL
from trading.signals import StrategyExecutor
from trading.signals.strategies import Strategy
from trading.snapshot import ReconciliationView, Series, Snapshot, StrategyView
from trading.storage import ActivityLog, TransactionRepository
from trading.trades import TradeManager

__all__ = ["SnapshotBuilder", "StrategyTally", "typical_stops"]

_LANE_METRICS = ("queued", "running", "completed", "failed")
_STOP_SAMPLE = 20  # recent trades per symbol whose stop distances make the typical stop


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


class SnapshotBuilder:
    def __init__(
        self,
        config: DeskConfig,
        *,
        bus: EventBus,
        clock: Clock,
        broker: DeskBroker,
        risk: RiskManager,
        trade_manager: TradeManager,
        executor: StrategyExecutor,
        activity: ActivityLog,
        transactions: TransactionRepository,
        strategies: tuple[Strategy, ...],
        equity: Series | None = None,
        broker_status: Callable[[], dict[str, Any]] | None = None,
        reconciliation: ReconciliationView | None = None,
    ) -> None:
        self._config = config
        self._clock = clock
        self._broker = broker
        self._risk = risk
        self._trade_manager = trade_manager
        self._executor = executor
        self._activity = activity
        self._repo = transactions
        self._strategies = strategies
        self._broker_status = broker_status  # a venue's connection, blindness, reconciliation
        self._reconciliation = reconciliation
        self.started_at = datetime.now(UTC)
        self.tallies = {s.name: StrategyTally(s.name) for s in strategies}
        self.transactions: deque[Transaction] = deque(maxlen=config.loop.recent_items)
        self.equity = SeriesBuffer(keep=config.loop.history_points)
        self.lane_history: dict[str, dict[str, SeriesBuffer]] = {}
        if equity is not None:
            self.equity.load(equity)
        self._recover_recent_transactions()
        bus.subscribe(TransactionOpened, self._on_transaction)
        bus.subscribe(TransactionClosed, self._on_transaction)

    # --- fed by events and the desk's steps ------------------------------------------

    def _on_transaction(self, event: TransactionOpened | TransactionClosed) -> None:
        stored = self._repo.get(event.transaction_id)
        if stored is None:
            return
        self.transactions.appendleft(stored)
        if isinstance(event, TransactionClosed) and stored.strategy in self.tallies:
            self.tallies[stored.strategy].record_close(stored)

    def _recover_recent_transactions(self) -> None:
        for txn in reversed(self._repo.recent(self._config.loop.recent_items)):
            self.transactions.appendleft(txn)
            if txn.strategy in self.tallies and txn.status is TransactionStatus.CLOSED:
                self.tallies[txn.strategy].record_close(txn)

    def sample_equity(self, t: float) -> None:
        """One point per timestamp: bars of several symbols closing together make one sample."""
        equity = float(self._broker.account().equity)
        last = self.equity.last_time
        if last == t:
            self.equity.replace_last(t, equity)
        elif last is None or t > last:
            self.equity.append(t, equity)

    def record_lanes(self) -> None:
        """One point per lane metric for the Executor page's history (once per publish)."""
        t = self._clock.now().timestamp()
        keep = self._config.loop.history_points // 10
        for lane in self._executor.statistics().lanes:
            metrics = self.lane_history.setdefault(
                lane.lane, {m: SeriesBuffer(keep=keep) for m in _LANE_METRICS}
            )
            for m in _LANE_METRICS:
                metrics[m].append(t, float(getattr(lane, m)))

    # --- the snapshot ----------------------------------------------------------------

    def build(self) -> Snapshot:
        risk, broker = self._risk, self._broker
        acct = broker.account()
        pnl = risk.pnl
        position_strategies: dict[str, set[str]] = {}
        for txn in self._trade_manager.active():
            position_strategies.setdefault(txn.symbol, set()).add(txn.strategy)
        recent = self._config.loop.recent_items
        speed = getattr(self._clock, "speed", None)
        return Snapshot(
            taken_at=self._clock.now(),
            heartbeat=time.time(),
            desk_pid=os.getpid(),
            started_at=self.started_at,
            trading_state=risk.state.value,
            state_reason=risk.state_reason,
            paused=risk.paused,
            account=account_view(
                acct,
                daily_realized_pnl=pnl.daily_realized - pnl.daily_commissions,
                daily_pnl=pnl.daily_pnl,
                daily_realized_gross=pnl.daily_realized,
                daily_commissions=pnl.daily_commissions,
                gross_exposure=self._gross_exposure(),
            ),
            equity_curve=self.equity.series(),
            daily_pnl=_daily_series(pnl.history(), pnl.unrealized),
            positions=tuple(
                position_view(p, position_strategies.get(s, ()))
                for s, p in sorted(broker.positions().items())
            ),
            open_orders=tuple(order_view(o) for o in broker.open_orders()),
            transactions=tuple(transaction_view(t) for t in self.transactions),
            strategies=self._strategy_views(),
            rules=rule_views(risk.rule_status()),
            lockouts=lockout_views(risk.lockouts(), risk.unlock_note),
            violations=violation_views(risk.recent_violations(recent)),
            lanes=lane_views(self._executor.statistics()),
            lane_history={
                lane: {m: b.series() for m, b in metrics.items()}
                for lane, metrics in self.lane_history.items()
            },
            activity_dropped=self._activity.statistics().dropped,
            next_reset=risk.next_reset,
            config_status=risk.config_status,
            prices={s: p for s in self._config_symbols() if (p := broker.last_price(s)) is not None},
            extra={
                "speed": speed,
                "config": self._config.account.name,
                "broker": {"kind": "paper"} if self._broker_status is None else self._broker_status(),
            },
            timezone=risk.config.reset.timezone,
            clock_speed=float(speed) if isinstance(speed, int | float) else 1.0,
            headroom=headroom_view(
                risk.headroom(self._config_symbols(), stops=typical_stops(self.transactions))
            ),
            reconciliation=self._reconciliation,
            storage_problem=broker.storage_problem or "",
        )

    def _gross_exposure(self) -> float:
        """Open positions at their last prices (average price before a first tick) x multiplier."""
        total = 0.0
        for pos in self._broker.positions().values():
            mark = pos.last_price if pos.last_price is not None else pos.avg_price
            total += abs(float(pos.quantity)) * float(mark) * float(pos.multiplier)
        return total

    def _strategy_views(self) -> tuple[StrategyView, ...]:
        runs = self._executor.strategy_statistics()
        views = []
        for strat in self._strategies:
            tally = self.tallies[strat.name]
            run = runs.get(f"strategy:{strat.name}")
            views.append(
                StrategyView(
                    name=strat.name,
                    trades=tally.trades,
                    wins=tally.wins,
                    losses=tally.losses,
                    realized_pnl=tally.realized_pnl,
                    open_transactions=len(self._trade_manager.active(strat.name)),
                    runs=run.runs if run else 0,
                    failures=(run.failures + run.timeouts) if run else 0,
                    mean_run_ms=run.mean_ms if run else 0.0,
                )
            )
        return tuple(views)

    def _config_symbols(self) -> tuple[str, ...]:
        return tuple(i.symbol for i in self._config.instruments)

    def __repr__(self) -> str:
        return (
            f"SnapshotBuilder(equity_points={len(self.equity)}, transactions={len(self.transactions)}, "
            f"lanes={sorted(self.lane_history)})"
        )


def _daily_series(history: list[DayPnL], unrealized: float) -> Series:
    if not history:
        return Series.empty()
    times = np.array(
        [datetime(d.day.year, d.day.month, d.day.day, tzinfo=UTC).timestamp() for d in history],
        dtype=np.float64,
    )
    values = np.array([d.net for d in history], dtype=np.float64)
    values[-1] += unrealized  # today: realized so far plus what is open
    return Series(times, values)


def typical_stops(transactions: Iterable[Transaction]) -> dict[str, float]:
    """Per symbol, the median distance between entry and stop-loss of its most recent trades
    (newest first in ``transactions``): the stop a new trade of that symbol would likely use."""
    distances: dict[str, list[float]] = {}
    for txn in transactions:
        if txn.entry_price is None or txn.stop_loss is None:
            continue
        found = distances.setdefault(txn.symbol, [])
        if len(found) < _STOP_SAMPLE:
            found.append(abs(float(txn.entry_price) - float(txn.stop_loss)))
    return {symbol: statistics.median(found) for symbol, found in distances.items() if found}
