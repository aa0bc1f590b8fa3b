"""``Desk``: builds the whole trading desk from its config and runs it.

One process, one asyncio loop. Ticks from the feed go to the ``PaperBroker``, whose
events reach, in this order, the risk manager's trackers and engine, the TradeManager
and the activity log; the broker has committed each step to the journal before it
publishes it. Strategies run in the executor's ``strategies`` lane whenever a bar
closes; the risk sweep runs in the ``risk`` lane
with one dedup key per account. A ``Snapshot`` goes to the ``StateManager`` every
publish interval, written on a worker thread so the loop never waits on the disk.

Time: a simulated feed runs on a ``ScaledClock`` (``clock.speed`` simulated seconds per
real second); a CSV replay drives a ``TestClock`` with the file's timestamps; a test
passes its own ``TestClock`` and calls ``run_simulated``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from trading.broker import DeskBroker
from trading.bus import EventBus
from trading.clock import Clock, ScaledClock, TestClock
from trading.desk._builder import DeskParts, build_parts
from trading.desk.config import DeskConfig, load_desk_config
from trading.desk.operators import DeskOperators
from trading.desk.preflight import resolve_risk_path
from trading.errors import TradingError
from trading.model import TradingState
from trading.risk import load_risk_config
from trading.signals.strategies import MarketView, Strategy
from trading.snapshot import Snapshot
from trading.state_dir import MAX_RESUME_AHEAD, Heartbeat, StateDir
from trading.storage import Database, JournalReader

__all__ = ["Desk"]

logger = logging.getLogger(__name__)


class Desk:
    """The desk. ``Desk(config, state_dir=...)`` opens everything (lock, database, state,
    recovery); bad input raises a ``TradingError`` from here, before anything runs.
    ``operators``: who may send it commands (``DeskOperators``; default the local operator,
    the OS user)."""

    def __init__(
        self,
        config: DeskConfig,
        *,
        state_dir: str | Path,
        config_path: str | Path | None = None,
        risk_config_path: str | Path | None = None,
        clock: Clock | None = None,
        operators: DeskOperators | None = None,
        allow_live: bool = False,
    ) -> None:
        self.config = config
        self.config_path = None if config_path is None else Path(config_path)
        self.state_dir = StateDir(Path(state_dir).absolute())
        risk_path = (
            Path(risk_config_path) if risk_config_path else resolve_risk_path(config, self.config_path)
        )
        risk_config = load_risk_config(risk_path)  # validated before the state directory is touched
        self.clock = clock or _default_clock(config, self.state_dir)
        self.bus = EventBus()
        self.parts: DeskParts = build_parts(
            config,
            state_dir=self.state_dir,
            bus=self.bus,
            clock=self.clock,
            risk_config=risk_config,
            risk_path=risk_path,
            config_path=self.config_path,
            operators=operators or DeskOperators.local_operator(),
            allow_live=allow_live,
        )
        p = self.parts
        self.broker: DeskBroker = p.broker
        self.risk = p.risk
        self.trade_manager = p.trade_manager
        self.executor = p.executor
        self.strategies: tuple[Strategy, ...] = p.strategies
        self.snapshots = p.snapshots
        self._accepting = True
        self._stopped = False
        self._runner: asyncio.Task[None] | None = None
        self.publishes = 0

    @classmethod
    def from_files(
        cls,
        config_path: str | Path,
        *,
        state_dir: str | Path,
        risk_config_path: str | Path | None = None,
        clock: Clock | None = None,
        operators: DeskOperators | None = None,
        allow_live: bool = False,
    ) -> Desk:
        config = load_desk_config(config_path)
        return cls(
            config,
            state_dir=state_dir,
            config_path=config_path,
            risk_config_path=risk_config_path,
            clock=clock,
            operators=operators,
            allow_live=allow_live,
        )

    # --- one market step -------------------------------------------------------------

    def pump(self, target: datetime | None = None) -> bool:
        """Feed every tick due by ``target`` (default: now) to the broker; True when a bar closed."""
        return self.parts.market.pump(target)

    @property
    def started_at(self) -> datetime:
        return self.snapshots.started_at

    @property
    def cycles(self) -> int:
        """Market steps taken so far."""
        return self.parts.market.cycles

    def submit_strategy_passes(self) -> int:
        """One pass per strategy in the ``strategies`` lane. None while the account is not
        ACTIVE: every entry would be denied, so asking would only fill the logs."""
        if not self._accepting or self.risk.state is not TradingState.ACTIVE:
            return 0
        submitted = 0
        for strategy in self.strategies:
            task_id = self.executor.submit_nowait(
                f"strategy:{strategy.name}",
                self._strategy_pass,
                strategy,
                lane="strategies",
                key=f"strategy:{strategy.name}",
                priority=5,
            )
            submitted += task_id is not None
        return submitted

    async def _strategy_pass(self, strategy: Strategy) -> dict[str, Any]:
        if not self._accepting:
            return {"summary": "desk stopping: no new entries"}
        open_symbols = frozenset(t.symbol for t in self.trade_manager.active(strategy.name))
        # Exits are set around the price the TradeManager checks them against: the last price.
        last_prices = {s: p for s in strategy.symbols if (p := self.broker.last_price(s)) is not None}
        market = MarketView(
            self.parts.market.bars.closes(), self.parts.instruments, open_symbols, last_prices
        )
        recommendations = strategy.evaluate(market)
        if not recommendations:
            return {"summary": "no signal"}
        outcome = self.trade_manager.run_pass(strategy.name, recommendations)
        created, rejected = outcome.created, outcome.rejected
        entries = [f"{t.side.value} {t.quantity:g} {t.symbol} ({t.status.value})" for t in created]
        summary = f"{len(created)} entr{'y' if len(created) == 1 else 'ies'}: {', '.join(entries)}"
        if rejected:
            summary += f"; {len(rejected)} rejected: {'; '.join(r.describe() for r in rejected)}"
        return {
            "summary": summary,
            "details": {
                "recommendations": [r.reason for r in recommendations],
                "rejected": [
                    {
                        "symbol": r.recommendation.symbol,
                        "side": r.recommendation.side.value,
                        "quantity": r.recommendation.quantity,
                        "reason": r.reason,
                    }
                    for r in rejected
                ],
            },
        }

    def submit_risk_sweep(self) -> str | None:
        return self.executor.submit_nowait(
            "risk_sweep", self.risk.sweep_job, lane="risk", key=f"risk:{self.config.account.name}", priority=0
        )

    # --- snapshots -----------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        return self.snapshots.build()

    async def publish(self) -> Snapshot:
        """Build a snapshot on the loop, write it (with the last prices and the risk counters)
        on a worker thread."""
        self.snapshots.record_lanes()
        snap = self.snapshot()
        last_prices = self.broker.last_prices()
        risk_state = self.risk.export_state()
        await asyncio.to_thread(self.parts.publisher.write, snap, last_prices, risk_state)
        self.publishes += 1
        return snap

    def write_heartbeat(self) -> None:
        """The heartbeat file, saying whether the journal holds steps it could not write."""
        Heartbeat.stamped(
            pid=os.getpid(),
            started_at=self.started_at,
            sim_time=self.clock.now(),
            trading_state=self.risk.state.value,
            degraded_reason=self.broker.storage_problem,
        ).write(self.state_dir.heartbeat)

    # --- running ------------------------------------------------------------------

    async def run_simulated(self, seconds: float, *, step: float = 1.0, publish_every: float = 10.0) -> None:
        """Deterministic run on a ``TestClock``: ``seconds`` of simulated time in ``step``s,
        every strategy pass and risk sweep awaited before the clock moves on. The executor
        keeps running between calls; ``shutdown`` stops it."""
        if not isinstance(self.clock, TestClock):
            raise TypeError("run_simulated needs a desk built on a TestClock")
        self._ensure_executor()
        await asyncio.sleep(0)
        end = self.clock.now().timestamp() + seconds
        last_publish = self.clock.now().timestamp()
        while self.clock.now().timestamp() < end:
            target = min(self.clock.now().timestamp() + step, end)
            until = datetime.fromtimestamp(target, UTC)
            if self.pump(until):
                self.submit_strategy_passes()
            self.clock.set_time(until)
            self.submit_risk_sweep()
            await self.executor.join()
            self.parts.commands.poll()
            if target - last_publish >= publish_every:
                await self._publish_on_failing_storage()
                last_publish = target
        await self._publish_on_failing_storage()

    async def _publish_on_failing_storage(self) -> None:
        """A simulated run's publish: a storage failure is logged and the run goes on, as the
        live loop does; any other failure is a fault and raised."""
        try:
            await self.publish()
        except _STORAGE_FAILURES as exc:
            _log_step_failure("publish", exc)

    def _ensure_executor(self) -> None:
        if self._runner is None:
            self._runner = asyncio.create_task(self.executor.start(), name="executor")

    async def run(self, *, stop: asyncio.Event | None = None, duration: float | None = None) -> None:
        """Run live until ``stop`` is set (or ``duration`` real seconds pass), then shut down."""
        stop = stop or asyncio.Event()
        loop_cfg = self.config.loop
        self._ensure_executor()
        if self.parts.venue is not None:
            await self.parts.venue.start()  # the venue's stream and polling run on this loop
        self.write_heartbeat()
        self.parts.activity.log_activity("INFO", "desk", f"desk started (pid {os.getpid()})")
        periodic = [
            self._every(0.05, self._market_step, "market"),
            self._every(loop_cfg.risk_sweep_interval, self._sweep_step, "risk sweep"),
            self._every(loop_cfg.publish_interval, self.publish, "publish"),
            self._every(loop_cfg.heartbeat_interval, self._heartbeat_step, "heartbeat"),
            self._every(loop_cfg.command_poll_interval, self._command_step, "commands"),
        ]
        tasks = [asyncio.create_task(coro) for coro in periodic]
        try:
            if duration is None:
                await stop.wait()
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), duration)
        finally:
            logger.info("desk stopping")
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self.shutdown()

    async def _every(self, interval: float, step: Callable[[], Awaitable[Any] | Any], what: str) -> None:
        """Run ``step`` every ``interval`` seconds. A failing step is logged once, when it starts
        failing (a storage error as one WARNING line, anything else with its traceback), and
        once when it works again: a full disk must not print a traceback a second."""
        failures = 0
        while True:
            started = time.monotonic()
            try:
                result = step()
                if asyncio.iscoroutine(result):
                    await result
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # one failed step must not stop the desk; it is retried next time
                failures += 1
                if failures == 1:
                    _log_step_failure(what, exc)
            else:
                if failures:
                    logger.warning("desk %s step works again after %d failed attempt(s)", what, failures)
                    failures = 0
            await asyncio.sleep(max(0.0, interval - (time.monotonic() - started)))

    def _market_step(self) -> None:
        if self.pump():
            self.submit_strategy_passes()

    def _sweep_step(self) -> None:
        self.submit_risk_sweep()

    def _heartbeat_step(self) -> None:
        """Write what the journal holds (if it holds anything: the storage is failing), then the
        heartbeat, which says whether it still holds some."""
        self.broker.flush_journal()
        self.write_heartbeat()

    def _command_step(self) -> None:
        self.parts.commands.poll()

    async def shutdown(self) -> None:
        """No new orders, executor stopped, the journal flushed, final snapshot saved, logs
        flushed, lock released. On failing storage it writes what it can and still returns
        normally (each write that fails is logged once): a SIGTERM'd desk exits 0."""
        if self._stopped:
            return
        self._accepting = False
        try:
            if self._runner is not None:
                await self.executor.stop(timeout=5.0)
                with contextlib.suppress(asyncio.CancelledError):
                    await self._runner
            if self.parts.venue is not None:
                await self.parts.venue.stop()
            self.broker.flush_journal()  # what is still held is written by the journal's close, or named
            for what, write in (("final snapshot", self.publish), ("heartbeat", self.write_heartbeat)):
                try:
                    result = write()
                    if asyncio.iscoroutine(result):
                        await result
                except Exception as exc:  # the rest of the stop goes on; the failure is logged
                    _log_step_failure(what, exc)
            problem = self.broker.storage_problem
            self.parts.activity.log_activity(
                "INFO" if problem is None else "ERROR",
                "desk",
                "desk stopped cleanly"
                if problem is None
                else f"desk stopped with its storage failing: {problem}",
            )
        finally:
            self._stopped = True
            await asyncio.to_thread(self.parts.close)
        logger.info("desk stopped: %s", self)

    def __repr__(self) -> str:
        return (
            f"Desk(state_dir={str(self.state_dir.root)!r}, state={self.risk.state.value}, "
            f"cycles={self.cycles}, publishes={self.publishes}, clock={self.clock!r})"
        )


_STORAGE_FAILURES = (OSError, TradingError, SQLAlchemyError)


def _log_step_failure(what: str, exc: Exception) -> None:
    """A storage failure (the disk, the database) in one WARNING line: the journal has said
    the one ERROR of the outage. Anything else is a fault: an ERROR with its traceback."""
    if isinstance(exc, _STORAGE_FAILURES):
        logger.warning("desk %s step cannot write: %s (not logged again until it works)", what, exc)
    else:
        logger.error("desk %s step failed (not logged again until it works)", what, exc_info=exc)


def _default_clock(config: DeskConfig, state_dir: StateDir) -> Clock:
    """A replay's ``TestClock``, or a ``ScaledClock`` from ``clock.start`` (validated, aware) or now,
    resumed from the last heartbeat's simulated time, or the newest desk time the database
    holds when that is later, so a restart never goes back in time.
    An unreadable heartbeat raises ``StateError`` (exit 2): the time to resume from is unknown."""
    if config.feed.kind == "csv":
        return TestClock(datetime(1970, 1, 2, tzinfo=UTC))  # moved by the replay's timestamps
    start = config.clock.start or datetime.now(UTC)
    state_dir.prepare()  # a state directory that cannot be used is the first thing to say, as check_desk does
    now = max(start, datetime.now(UTC))
    resumed = Heartbeat.resume_time(state_dir.heartbeat, now=now)
    if resumed is not None:
        start = max(start, resumed)
    journal = _journal_time(state_dir, config.account.name, now=now)
    if journal is not None and journal > start:
        logger.info("clock resumes from the last desk time on record, %s (heartbeat: %s)", journal, resumed)
        start = journal
    return ScaledClock(config.clock.speed, start=start)


def _journal_time(state_dir: StateDir, account: str, *, now: datetime) -> datetime | None:
    """The newest desk time on record (journal steps, risk records, activity): a desk killed
    between heartbeats wrote after its last heartbeat (a fast clock runs minutes ahead in half
    a second); resuming before that would move the desk's time back, across a daily reset even
    (a latch saved for the new day would then not be restored, and fire again). None without a
    database, or for a time further ahead than any clock could have run (ignored with a
    WARNING, like the heartbeat's)."""
    if not state_dir.database.exists():
        return None
    db = Database(state_dir.database)
    try:
        latest = JournalReader(db, account=account).latest_time()
    finally:
        db.close()
    if latest is not None and latest - now > MAX_RESUME_AHEAD:
        logger.warning(
            "%s: the newest desk time on record, %s, is far ahead of %s: ignored",
            state_dir.database,
            latest,
            now,
        )
        return None
    return latest
