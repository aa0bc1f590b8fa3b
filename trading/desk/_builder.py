"""Build every part of a desk from its config, and take them down again.

Kept apart from ``desk.py`` so the composition (what is wired to what, in which order)
reads in one place. Subscription order on the bus is the design's: the risk manager's
trackers and engine first, then the TradeManager, then the order recorder and the
activity log.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trading.broker import CsvReplayFeed, PaperBroker, SimulatedFeed
from trading.bus import EventBus
from trading.clock import Clock
from trading.desk._activity import subscribe_activity
from trading.desk._commands import CommandProcessor, DeskCommands, restore_pause
from trading.desk._market import BarHistory
from trading.desk._recorder import OrderRecorder
from trading.desk._series import SeriesBuffer
from trading.desk._snapshots import (
    SnapshotParts,
    lane_views,
    lockout_views,
    order_view,
    position_view,
    rule_views,
    transaction_view,
    violation_views,
)
from trading.desk._statedir import DeskLock
from trading.desk.config import DeskConfig
from trading.errors import TradingError
from trading.memory import StateManager
from trading.model import Instrument, MarketDataUpdated
from trading.risk import RiskManager, load_risk_config
from trading.signals import ExecutorConfig, LaneConfig, StrategyExecutor
from trading.signals.strategies import STRATEGY_KINDS, Strategy
from trading.snapshot import SNAPSHOT_KEY, AccountView, Series, Snapshot, StrategyView
from trading.state_dir import StateDir
from trading.storage import (
    ActivityLog,
    AuditRepository,
    BackgroundJobStore,
    CommandRepository,
    Database,
    FillRepository,
    JobRepository,
    KeyValueRepository,
    LockoutRepository,
    OrderRepository,
    TransactionRepository,
    ViolationRepository,
)
from trading.trades import TradeManager

if TYPE_CHECKING:
    from trading.desk.desk import Desk

__all__ = ["ACCOUNT_KEY", "RISK_KEY", "DeskParts", "build_parts", "resolve_risk_path"]

logger = logging.getLogger(__name__)

ACCOUNT_KEY = "paper_account"
RISK_KEY = "risk_state"
_LANE_METRICS = ("queued", "running", "completed", "failed")


def resolve_risk_path(config: DeskConfig, config_path: Path | None) -> Path:
    base = config_path.parent if config_path is not None else Path("config")
    return (base / config.risk_config).absolute()


@dataclass(slots=True, kw_only=True)
class DeskParts:
    config: DeskConfig
    clock: Clock
    lock: DeskLock
    instruments: dict[str, Instrument]
    broker: PaperBroker
    feed: SimulatedFeed | CsvReplayFeed
    bars: BarHistory
    db: Database
    state: StateManager
    activity: ActivityLog
    transactions_repo: TransactionRepository
    kv: KeyValueRepository
    risk: RiskManager
    trade_manager: TradeManager
    executor: StrategyExecutor
    strategies: tuple[Strategy, ...]
    commands: CommandProcessor
    recorder: OrderRecorder
    equity: SeriesBuffer
    lane_history: dict[str, dict[str, SeriesBuffer]] = field(default_factory=dict)
    target_time: datetime | None = None
    _closers: list[Callable[[], Any]] = field(default_factory=list)

    # --- market data -------------------------------------------------------------

    def due_ticks(self) -> list[MarketDataUpdated]:
        if isinstance(self.feed, SimulatedFeed):
            return self.feed.step(self.target_time or self.clock.now())
        return self.feed.next_ticks(self._csv_batch())

    def _csv_batch(self) -> int:
        speed = self.feed.speed if isinstance(self.feed, CsvReplayFeed) else None
        return 1 if speed is not None else 500

    def sample_equity(self, t: float) -> None:
        """One point per timestamp: bars of several symbols closing together make one sample."""
        equity = self.broker.account().equity
        if self.equity.last_time == t:
            self.equity.replace_last(t, equity)
        elif self.equity.last_time is None or t > self.equity.last_time:
            self.equity.append(t, equity)

    # --- snapshots ---------------------------------------------------------------

    def snapshot_parts(self, desk: Desk) -> SnapshotParts:
        now = self.clock.now()
        acct = self.broker.account()
        pnl = self.risk.pnl
        stats = self.executor.statistics()
        strategy_stats = self.executor.strategy_statistics()
        strategies = []
        for strat in self.strategies:
            tally = desk.tallies[strat.name]
            run = strategy_stats.get(f"strategy:{strat.name}")
            strategies.append(
                StrategyView(
                    name=strat.name,
                    trades=tally.trades,
                    wins=tally.wins,
                    losses=tally.losses,
                    realized_pnl=tally.realized_pnl,
                    open_transactions=len(self.trade_manager.active(strat.name)),
                    runs=run.runs if run else 0,
                    failures=(run.failures + run.timeouts) if run else 0,
                    mean_run_ms=run.mean_ms if run else 0.0,
                )
            )
        position_strategies: dict[str, set[str]] = {}
        for txn in self.trade_manager.active():
            position_strategies.setdefault(txn.symbol, set()).add(txn.strategy)
        return SnapshotParts(
            taken_at=now,
            started_at=desk.started_at,
            trading_state=self.risk.state.value,
            state_reason=self.risk.state_reason,
            paused=self.risk.paused,
            account=AccountView(
                cash=acct.cash,
                equity=acct.equity,
                buying_power=acct.buying_power,
                realized_pnl=acct.realized_pnl,
                unrealized_pnl=acct.unrealized_pnl,
                commissions=acct.commissions,
                starting_balance=acct.starting_balance,
                daily_realized_pnl=pnl.daily_realized - pnl.daily_commissions,
                daily_pnl=pnl.daily_pnl,
            ),
            equity_curve=self.equity.series(),
            daily_pnl=_daily_series(pnl.history(), self.risk.pnl.unrealized),
            positions=tuple(
                position_view(p, position_strategies.get(s, ()))
                for s, p in sorted(self.broker.positions().items())
            ),
            open_orders=tuple(order_view(o) for o in self.broker.open_orders()),
            transactions=tuple(transaction_view(t) for t in desk.transactions),
            strategies=tuple(strategies),
            rules=rule_views(self.risk.rule_status()),
            lockouts=lockout_views(self.risk.lockouts()),
            violations=violation_views(self.risk.recent_violations(self.config.loop.recent_items)),
            lanes=lane_views(stats),
            lane_history={
                lane: {m: b.series() for m, b in metrics.items()}
                for lane, metrics in self.lane_history.items()
            },
            activity_dropped=self.activity.statistics().dropped,
            next_reset=self.risk.next_reset,
            prices={s: p for s in self.instruments if (p := self.broker.last_price(s)) is not None},
            extra={"speed": getattr(self.clock, "speed", None), "config": self.config.account.name},
        )

    def record_lanes(self) -> None:
        """One point per lane metric for the Executor page's history (once per publish)."""
        t = self.clock.now().timestamp()
        for lane in self.executor.statistics().lanes:
            metrics = self.lane_history.setdefault(
                lane.lane,
                {m: SeriesBuffer(keep=self.config.loop.history_points // 10) for m in _LANE_METRICS},
            )
            for m in _LANE_METRICS:
                metrics[m].append(t, float(getattr(lane, m)))

    def write_state(self, snap: Snapshot, account_state: dict[str, Any], risk_state: dict[str, Any]) -> None:
        """Runs on a worker thread: the snapshot to the state file, the account and the
        risk counters to SQLite (both exported on the loop, so they are consistent)."""
        self.state.set(SNAPSHOT_KEY, snap)
        self.state.save()
        self.kv.put(ACCOUNT_KEY, account_state)
        self.kv.put(RISK_KEY, risk_state)

    def close(self) -> None:
        for closer in reversed(self._closers):
            try:
                closer()
            except Exception:  # closing must go on for the other parts; the failure is logged
                logger.exception("closing %r failed", closer)
        self._closers.clear()


def _daily_series(history: list[Any], unrealized: float) -> Series:
    import numpy as np

    if not history:
        return Series.empty()
    times = np.array(
        [datetime(d.day.year, d.day.month, d.day.day, tzinfo=UTC).timestamp() for d in history],
        dtype=np.float64,
    )
    values = np.array([d.net for d in history], dtype=np.float64)
    values[-1] += unrealized  # today: realized so far plus what is open
    return Series(times, values)


def _build_strategies(config: DeskConfig) -> tuple[Strategy, ...]:
    built = []
    for cfg in config.strategies:
        if not cfg.enabled:
            continue
        params = cfg.model_dump(exclude={"name", "kind", "symbols", "enabled"})
        built.append(STRATEGY_KINDS[cfg.kind](cfg.name, cfg.symbols, **params))
    return tuple(built)


def _build_feed(config: DeskConfig, clock: Clock, config_path: Path | None, broker: PaperBroker):
    if config.feed.kind == "csv":
        assert config.feed.csv is not None
        csv_cfg = config.feed.csv
        path = Path(csv_cfg.path)
        if not path.is_absolute() and config_path is not None:
            path = config_path.parent / path
        feed = CsvReplayFeed(path, speed=csv_cfg.speed)
        feed.validate()  # a malformed row stops the desk before it starts, naming the line
        return feed
    assert config.feed.simulated is not None
    sim = config.feed.simulated
    # After a restart the walk continues from the restored account's last prices.
    symbols = tuple(
        s.model_copy(update={"start_price": broker.last_price(s.symbol) or s.start_price})
        for s in sim.symbols
    )
    return SimulatedFeed(sim.model_copy(update={"symbols": symbols}), clock)


def build_parts(
    config: DeskConfig,
    state_dir: StateDir,
    bus: EventBus,
    clock: Clock,
    risk_path: Path,
    config_path: Path | None,
) -> DeskParts:
    """Open everything in order; on any failure, close what was opened and re-raise."""
    risk_cfg = load_risk_config(risk_path)  # validate configs before touching the state directory
    state_dir.prepare()
    lock = DeskLock(state_dir)
    lock.acquire()
    closers: list[Callable[[], Any]] = [lock.release]
    try:
        return _build_locked(config, state_dir, bus, clock, risk_path, risk_cfg, config_path, lock, closers)
    except BaseException:
        for closer in reversed(closers):
            with contextlib.suppress(Exception):
                closer()
        raise


def _build_locked(
    config, state_dir, bus, clock, risk_path, risk_cfg, config_path, lock, closers
) -> DeskParts:
    instruments = {i.symbol: i.to_instrument() for i in config.instruments}
    db = Database(state_dir.database)
    closers.append(db.close)
    kv = KeyValueRepository(db)
    broker = PaperBroker(
        bus,
        clock,
        instruments.values(),
        starting_balance=config.account.starting_balance,
        slippage_ticks=config.account.slippage_ticks,
    )
    saved = kv.get(ACCOUNT_KEY)
    if saved is not None:
        try:
            broker.restore_state(saved)
        except TradingError as exc:
            raise TradingError(
                f"{state_dir.database}: saved paper account cannot be restored: {exc}"
            ) from exc
        logger.info("paper account restored: %s", broker.account())
    feed = _build_feed(config, clock, config_path, broker)
    if isinstance(feed, CsvReplayFeed):
        closers.append(feed.close)
    # not read here: _previous_snapshot loads it and forgives an unreadable file
    state = StateManager(state_dir.state_file, clock=clock, load=False)
    closers.append(state.close)
    activity = ActivityLog(db, clock=clock)
    activity.start()
    closers.append(activity.close)
    risk = RiskManager(
        bus,
        broker,
        clock,
        risk_cfg,
        violations=ViolationRepository(db),
        lockouts=LockoutRepository(db),
        audit=AuditRepository(db),
        account=config.account.name,
        config_path=risk_path,
    )
    risk.start()
    saved_risk = kv.get(RISK_KEY)
    if saved_risk is not None:
        risk.restore_state(saved_risk)  # today's P&L counters: a restart never resets a daily loss
    restore_pause(risk, kv)
    transactions = TransactionRepository(db)
    trade_manager = TradeManager(broker, bus, clock, transactions, activity=activity)
    trade_manager.restore()
    recorder = OrderRecorder(bus, broker, OrderRepository(db), FillRepository(db))
    recorder.start()
    closers.insert(2, recorder.close)  # before the database closes
    subscribe_activity(bus, activity)
    ex = config.executor
    jobs = BackgroundJobStore(JobRepository(db))  # job records written off the event loop
    closers.insert(2, jobs.close)  # after the executor stops, before the database closes
    executor = StrategyExecutor(
        config=ExecutorConfig(
            lanes=(
                LaneConfig(name="strategies", workers=ex.strategy_workers, max_queue=ex.max_queue_size),
                LaneConfig(name="risk", workers=ex.risk_workers, max_queue=ex.max_queue_size),
            ),
            default_timeout=ex.task_timeout,
        ),
        clock=clock,
        job_stores={"strategies": jobs, "risk": jobs},
    )
    commands = CommandProcessor(
        CommandRepository(db), DeskCommands(broker, risk, kv).handlers(), activity=activity
    )
    interrupted = commands.fail_interrupted()
    if interrupted:
        logger.warning(
            "%d command(s) were interrupted by the previous desk's stop and are marked failed", interrupted
        )
    equity = SeriesBuffer(keep=config.loop.history_points)
    previous = _previous_snapshot(state)
    if previous is not None:
        equity.load(previous.equity_curve)
    parts = DeskParts(
        config=config,
        clock=clock,
        lock=lock,
        instruments=instruments,
        broker=broker,
        feed=feed,
        bars=BarHistory(instruments, bar_seconds=config.loop.bar_seconds),
        db=db,
        state=state,
        activity=activity,
        transactions_repo=transactions,
        kv=kv,
        risk=risk,
        trade_manager=trade_manager,
        executor=executor,
        strategies=_build_strategies(config),
        commands=commands,
        recorder=recorder,
        equity=equity,
        _closers=closers,
    )
    parts.sample_equity(clock.now().timestamp())
    return parts


def _previous_snapshot(state: StateManager) -> Snapshot | None:
    try:
        state.load()
    except TradingError as exc:
        logger.warning("previous state could not be read (%s); starting a new equity curve", exc)
        return None
    snap = state.get(SNAPSHOT_KEY)
    return snap if isinstance(snap, Snapshot) else None
