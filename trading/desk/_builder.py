"""Build every part of a desk from its config, and take them down again: pure wiring.

What is wired to what, and in which order, reads in one place. Subscription order on the
bus is the design's: the risk manager's trackers and engine first, then the TradeManager,
then the activity log. The broker writes its books to the journal (orders, fills,
positions, the account) itself, before it publishes each step; a restart rebuilds it from
the journal, and a ``Reconciler`` compares the journal with the broker's view and with its own
fills, restores the transactions and reports every repair. ``DeskParts`` only holds the parts
and the order to close them in; behaviour lives in the parts themselves.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trading.broker import CsvReplayFeed, DeskBroker, PaperBroker, SimulatedFeed
from trading.broker.registry import BrokerContext, broker_kind
from trading.broker.venue import VenueBroker, VenueSettings
from trading.bus import EventBus
from trading.clock import Clock
from trading.desk._activity import subscribe_activity
from trading.desk._broker_side import AccountSide, BrokerSide
from trading.desk._commands import CommandProcessor, DeskCommands, restore_pause
from trading.desk._market import BarHistory
from trading.desk._publisher import ACCOUNT_KEY, LAST_PRICES_KEY, RISK_KEY, StatePublisher
from trading.desk._pump import MarketPump
from trading.desk._reconcile import Reconciler
from trading.desk._reconciliation import ReconciliationReport
from trading.desk._snapshot_builder import SnapshotBuilder
from trading.desk._statedir import DeskLock
from trading.desk.books_check import check_books_pair
from trading.desk.config import DeskConfig
from trading.desk.operators import DeskOperators
from trading.desk.preflight import csv_feed_path
from trading.errors import TradingError
from trading.memory import StateManager
from trading.model import Instrument, to_money
from trading.risk import RiskConfig, RiskManager
from trading.signals import ExecutorConfig, LaneConfig, StrategyExecutor
from trading.signals.strategies import STRATEGY_KINDS, Strategy
from trading.snapshot import Series
from trading.state_dir import StateDir
from trading.storage import (
    ActivityLog,
    AuditRepository,
    BackgroundJobStore,
    CommandRepository,
    Database,
    JobRepository,
    Journal,
    KeyValueRepository,
    OrderHistoryRepository,
    RiskRepository,
    TransactionRepository,
)
from trading.trades import TradeManager

__all__ = ["Closers", "DeskParts", "build_parts", "build_strategies"]

logger = logging.getLogger(__name__)


class Closers:
    """Closes what was opened, last opened first; a failing close is logged and the rest go on."""

    def __init__(self) -> None:
        self._closers: list[Callable[[], Any]] = []

    def add(self, closer: Callable[[], Any]) -> None:
        self._closers.append(closer)

    def close(self) -> None:
        while self._closers:
            closer = self._closers.pop()
            try:
                closer()
            except Exception:  # closing must go on for the other parts; the failure is logged
                logger.exception("closing %r failed", closer)

    def __len__(self) -> int:
        return len(self._closers)


@dataclass(frozen=True, slots=True, kw_only=True)
class DeskParts:
    lock: DeskLock
    instruments: dict[str, Instrument]
    broker: DeskBroker
    venue: VenueBroker | None  # the broker when it is a real venue's (started and stopped with the loop)
    db: Database
    journal: Journal
    reconciliation: ReconciliationReport
    kv: KeyValueRepository
    activity: ActivityLog
    risk: RiskManager
    trade_manager: TradeManager
    executor: StrategyExecutor
    strategies: tuple[Strategy, ...]
    commands: CommandProcessor
    market: MarketPump
    snapshots: SnapshotBuilder
    publisher: StatePublisher
    closers: Closers

    def close(self) -> None:
        self.closers.close()


def build_parts(
    config: DeskConfig,
    *,
    state_dir: StateDir,
    bus: EventBus,
    clock: Clock,
    risk_config: RiskConfig,
    risk_path: Path,
    config_path: Path | None,
    operators: DeskOperators,
    allow_live: bool = False,
) -> DeskParts:
    """Open everything in order; on any failure, close what was opened and re-raise.
    ``allow_live``: the process was started with ``--allow-live`` (a live venue account)."""
    state_dir.prepare()
    closers = Closers()
    lock = DeskLock(state_dir)
    lock.acquire()
    closers.add(lock.release)
    try:
        check_books_pair(state_dir, config.account.name)  # before anything is written
        return _build_locked(
            config,
            state_dir,
            bus,
            clock,
            risk_config,
            risk_path,
            config_path,
            operators,
            lock,
            closers,
            allow_live,
        )
    except BaseException:
        closers.close()
        raise


def _build_locked(
    config: DeskConfig,
    state_dir: StateDir,
    bus: EventBus,
    clock: Clock,
    risk_config: RiskConfig,
    risk_path: Path,
    config_path: Path | None,
    operators: DeskOperators,
    lock: DeskLock,
    closers: Closers,
    allow_live: bool,
) -> DeskParts:
    instruments = {i.symbol: i.to_instrument() for i in config.instruments}
    state = StateManager(state_dir.state_file, clock=clock, load=False)
    closers.add(state.close)
    if not state_dir.state_file.exists():
        state.save()  # an empty state file before the first account row: the pair stays consistent
    db = Database(state_dir.database)
    closers.add(db.close)
    kv = KeyValueRepository(db)
    journal = Journal(db, account=config.account.name)
    closers.add(journal.close)  # closed after everything that trades, before the database
    venue: VenueBroker | None = None
    broker: DeskBroker
    side: BrokerSide  # the broker's view, for the restart's reconciliation with the journal
    if isinstance(config.broker, VenueSettings):
        venue = _venue_broker(config, config.broker, bus, clock, instruments, journal, db, allow_live)
        closers.add(venue.close)  # its lanes' threads; the desk stops its stream and polling first
        broker, side = venue, AccountSide(venue, name=config.broker.kind, wins=True)
    else:
        paper = _restored_broker(config, bus, clock, instruments, journal, kv, state_dir)
        broker, side = paper, AccountSide(paper, name="paper broker", wins=False)
    feed = _build_feed(config, clock, config_path, broker)
    if isinstance(feed, CsvReplayFeed):
        closers.add(feed.close)
    publisher = StatePublisher(state, kv)
    activity = ActivityLog(db, clock=clock)
    activity.start()
    closers.add(activity.close)
    risk_store = RiskRepository(db)  # violations, lockouts, audit, rule states: one record a decision
    risk = RiskManager(
        bus,
        broker,
        clock,
        risk_config,
        store=risk_store,
        fills=journal.reader,  # today's P&L counters are recounted from the journal's fills
        account=config.account.name,
        config_path=risk_path,
    )
    risk.start()
    closers.add(risk.stop)  # writes the rule states; before the database closes
    _import_version_1_risk_state(risk, risk_store, kv)
    restore_pause(risk, kv)
    transactions = TransactionRepository(db)
    trade_manager = TradeManager(broker, bus, clock, transactions, activity=activity)
    reconciler = Reconciler(journal.reader, side, clock=clock, activity=activity, kv=kv)
    reconciliation = reconciler.reconcile(
        lambda: trade_manager.restore(OrderHistoryRepository(db)), risk=_risk_summary(risk)
    )
    subscribe_activity(bus, activity)
    jobs = BackgroundJobStore(JobRepository(db))  # job records written off the event loop
    closers.add(jobs.close)  # after the executor stops, before the database closes
    executor = _build_executor(config, clock, jobs)
    desk_commands = DeskCommands(broker, risk, kv, operators=operators, clock=clock)
    commands = CommandProcessor(
        CommandRepository(db),
        desk_commands.handlers(),
        activity=activity,
        gate=desk_commands.requester_refusal,  # only this desk's operators command it
    )
    interrupted = commands.fail_interrupted()
    if interrupted:
        logger.warning(
            "%d command(s) were interrupted by the previous desk's stop and are marked failed", interrupted
        )
    strategies = build_strategies(config)
    snapshots = SnapshotBuilder(
        config,
        bus=bus,
        clock=clock,
        broker=broker,
        risk=risk,
        trade_manager=trade_manager,
        executor=executor,
        activity=activity,
        transactions=transactions,
        strategies=strategies,
        equity=_previous_equity(publisher),
        broker_status=None if venue is None else venue.status,
        reconciliation=reconciliation.to_view(),
    )
    snapshots.sample_equity(clock.now().timestamp())
    market = MarketPump(
        feed,
        broker,
        BarHistory(instruments, bar_seconds=config.loop.bar_seconds),
        clock,
        on_bar_close=snapshots.sample_equity,
    )
    return DeskParts(
        lock=lock,
        instruments=instruments,
        broker=broker,
        venue=venue,
        db=db,
        journal=journal,
        reconciliation=reconciliation,
        kv=kv,
        activity=activity,
        risk=risk,
        trade_manager=trade_manager,
        executor=executor,
        strategies=strategies,
        commands=commands,
        market=market,
        snapshots=snapshots,
        publisher=publisher,
        closers=closers,
    )


def _restored_broker(
    config: DeskConfig,
    bus: EventBus,
    clock: Clock,
    instruments: dict[str, Instrument],
    journal: Journal,
    kv: KeyValueRepository,
    state_dir: StateDir,
) -> PaperBroker:
    """The paper broker on its journal, with the books the journal holds. A database without
    books yet starts them: from the version-1 account blob when there is one (imported once,
    then never read again), else a fresh account at the configured starting balance."""
    broker = PaperBroker(
        bus,
        clock,
        instruments.values(),
        starting_balance=config.account.starting_balance,
        slippage_ticks=config.account.slippage_ticks,
        journal=journal,
    )
    where = state_dir.database
    view = journal.load()
    saved = None if view.account is not None else kv.get(ACCOUNT_KEY)
    prices = kv.get(LAST_PRICES_KEY)
    try:
        if view.account is not None:
            broker.restore_from_journal(view)
        elif saved is not None:
            broker.restore_state(saved)
        if prices is not None:
            broker.restore_last_prices(prices)
    except TradingError as exc:
        raise TradingError(f"{where}: saved paper account cannot be restored: {exc}") from exc
    if view.account is None:
        if saved is not None:
            logger.warning(
                "%s: importing the version-1 paper account (key %r) into the journal; "
                "from now on the journal is the account's record",
                where,
                ACCOUNT_KEY,
            )
        problem = broker.commit_books()
        if problem is not None:
            raise TradingError(f"{where}: the journal cannot start the account's books: {problem}")
    logger.info("paper account: %s", broker.account())
    return broker


def _venue_broker(
    config: DeskConfig,
    settings: VenueSettings,
    bus: EventBus,
    clock: Clock,
    instruments: dict[str, Instrument],
    journal: Journal,
    db: Database,
    allow_live: bool,
) -> VenueBroker:
    """A real venue's account (``broker.kind``, from the registry) on the journal: its books
    restored from the journal, then reconciled with the venue (blocking, before the loop)."""
    context = BrokerContext(
        bus=bus,
        clock=clock,
        instruments=tuple(instruments.values()),
        journal=journal,
        history=journal.reader,
        audit=AuditRepository(db),
        environ=os.environ,
        allow_live=allow_live,
        starting_balance=to_money(config.account.starting_balance),
    )
    broker = broker_kind(settings.kind).build(settings, context)
    report = broker.open(journal.load())
    if report is not None:
        logger.info("%s", report.summary())
    return broker


def _import_version_1_risk_state(risk: RiskManager, store: RiskRepository, kv: KeyValueRepository) -> None:
    """A version-1 database kept the rules' latches and marks only in the key-value blob: take
    them once, while the ``rule_state`` table is empty (from then on the table is their record)."""
    if store.saved_rule_states():
        return
    saved = kv.get(RISK_KEY)
    if saved is not None and saved.get("version") == 1:
        risk.restore_state(saved)


def _risk_summary(risk: RiskManager) -> str:
    """The risk state the restart restored, in one line for the reconciliation report."""
    lockouts = len(risk.lockouts())
    reason = f" ({risk.state_reason})" if risk.state_reason else ""
    return (
        f"risk: trading day {risk.pnl.trading_day}, daily net {risk.pnl.daily_net:,.2f}, "
        f"{risk.state.value}{reason}, {lockouts} lockout{'' if lockouts == 1 else 's'}"
    )


def _build_executor(config: DeskConfig, clock: Clock, jobs: BackgroundJobStore) -> StrategyExecutor:
    ex = config.executor
    return StrategyExecutor(
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


def build_strategies(config: DeskConfig) -> tuple[Strategy, ...]:
    built = []
    for cfg in config.strategies:
        if not cfg.enabled:
            continue
        params = cfg.model_dump(exclude={"name", "kind", "symbols", "enabled"})
        built.append(STRATEGY_KINDS[cfg.kind](cfg.name, cfg.symbols, **params))
    return tuple(built)


def _build_feed(
    config: DeskConfig, clock: Clock, config_path: Path | None, broker: DeskBroker
) -> SimulatedFeed | CsvReplayFeed | None:
    if config.feed.kind == "broker":
        return None  # the venue's own marks (polled positions), no bars
    csv_path = csv_feed_path(config, config_path)
    if csv_path is not None:
        assert config.feed.csv is not None
        feed = CsvReplayFeed(csv_path, speed=config.feed.csv.speed)
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


def _previous_equity(publisher: StatePublisher) -> Series | None:
    """The equity curve the previous desk published: a restart continues it. An unreadable
    state file is forgiven here (the StateManager has logged and recovered what it could)."""
    try:
        publisher.state.load()
    except TradingError as exc:
        logger.warning("previous state could not be read (%s); starting a new equity curve", exc)
        return None
    previous = publisher.previous_snapshot()
    return None if previous is None else previous.equity_curve
