"""What-if replay: recorded prices through the desk's strategies and one rule set, on a TestClock.

``ReplayDesk`` is a desk in one process with no state directory: a ``PaperBroker``, a
``RiskManager`` on the given rules, a ``TradeManager`` (its transactions in a throw-away SQLite
file) and the desk config's strategies, all on one ``EventBus`` and one ``TestClock``, wired
in the order the desk wires them. The desk's own builder (``trading.desk._builder``) is not
used: it takes a state directory, a lock, the journal and the executor's lanes, none of which a
replay wants; the parts it builds from the config are reused (``build_strategies``,
``BarHistory``, ``DeskConfig.instruments``).

Each price goes to the broker (orders match, positions mark), then to the bars; when a bar
closes the risk sweep runs (timers, the daily reset, warnings) and, while the account is
ACTIVE, every strategy is asked once, as the desk's loop does. What the rules did is kept as
``ReplayEvent`` values: warnings (a rule past its warning threshold), violations
(``RuleViolated``, shadow ones as "would have"), and denied orders (``OrderDenied``), with the
equity and the floors sampled at every bar.

Prices come from a CSV in the replay feed's format (``trading.broker.CsvReplayFeed``: ticks or
OHLCV bars) or from a desk's journal (``desk.db``: the prices of its fills, in booking order).
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from trading.broker import CsvReplayFeed, PaperBroker
from trading.bus import EventBus
from trading.clock import TestClock
from trading.desk._builder import build_strategies
from trading.desk._market import BarHistory
from trading.desk.config import DeskConfig
from trading.model import MarketDataUpdated, OrderDenied, RuleViolated, TradingState
from trading.risk import RiskConfig, RiskManager
from trading.risk.types import LimitWarning
from trading.signals.strategies import MarketView
from trading.storage import Database, Journal, TransactionRepository
from trading.trades import TradeManager

__all__ = ["EquityPoint", "ReplayDesk", "ReplayEvent", "ReplayResult", "read_prices", "replay"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplayEvent:
    """One thing a rule did: ``kind`` is "warned", "acted", "would have" (shadow) or "denied"."""

    ts: datetime
    rule: str
    kind: str
    action: str
    message: str


@dataclass(frozen=True, slots=True)
class EquityPoint:
    ts: datetime
    equity: float
    drawdown_floor: float | None  # the trailing drawdown floor closest to equity
    daily_floor: float | None  # the balance at which today's loss limit is reached


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplayResult:
    name: str
    events: tuple[ReplayEvent, ...]
    equity: tuple[EquityPoint, ...]
    final_equity: float
    final_state: str
    ticks: int
    bars: int
    fills: int
    rules: tuple[str, ...] = field(default=())

    def of_rule(self, rule: str, kind: str) -> list[ReplayEvent]:
        return [e for e in self.events if e.rule == rule and e.kind == kind]


def read_prices(path: Path, *, account: str = "default") -> list[MarketDataUpdated]:
    """The prices of ``path``: a CSV (``FeedDataError`` names a bad line) or a desk journal
    (``*.db``: its fills' prices, oldest first)."""
    if path.suffix == ".db":
        db = Database(path)
        try:
            journal = Journal(db, account=account)
            try:
                fills = journal.reader.fills()
            finally:
                journal.close()
        finally:
            db.close()
        return [MarketDataUpdated(ts=f.ts, symbol=f.symbol, price=f.price) for f in fills]
    return list(CsvReplayFeed(path))


class ReplayDesk:
    """A desk on a ``TestClock`` in this process (see the module docstring). ``close()`` it."""

    def __init__(
        self, config: DeskConfig, risk: RiskConfig, *, start: datetime, name: str = "replay"
    ) -> None:
        self.name = name
        self.clock = TestClock(start)
        self.bus = EventBus()
        self.instruments = {i.symbol: i.to_instrument() for i in config.instruments}
        self.broker = PaperBroker(
            self.bus,
            self.clock,
            self.instruments.values(),
            starting_balance=config.account.starting_balance,
            slippage_ticks=config.account.slippage_ticks,
        )
        self.events: list[ReplayEvent] = []
        self.equity: list[EquityPoint] = []
        self.fills = self.ticks = 0
        self.risk = RiskManager(self.bus, self.broker, self.clock, risk, account=config.account.name)
        self.risk.start()
        self._dir = tempfile.TemporaryDirectory(prefix="replay-")
        self._db = Database(Path(self._dir.name) / "transactions.db")
        self.trades = TradeManager(self.broker, self.bus, self.clock, TransactionRepository(self._db))
        self.strategies = build_strategies(config)
        self.bars = BarHistory(self.instruments, bar_seconds=config.loop.bar_seconds)
        subscribe = self.bus.subscribe
        subscribe(RuleViolated, self._on_violation)
        subscribe(OrderDenied, self._on_denied)
        engine = self.risk.engine
        self._warn_next = engine.on_warning
        engine.on_warning = self._on_warning  # noted here, then passed on as the manager wired it

    # --- what the rules did ------------------------------------------------------------

    def _on_violation(self, event: RuleViolated) -> None:
        kind = "would have" if event.shadow else "acted"
        self.events.append(
            ReplayEvent(ts=event.ts, rule=event.rule, kind=kind, action=event.action, message=event.message)
        )

    def _on_denied(self, event: OrderDenied) -> None:
        self.events.append(
            ReplayEvent(ts=event.ts, rule=event.rule, kind="denied", action="deny", message=event.reason)
        )

    def _on_warning(self, warning: LimitWarning) -> None:
        self.events.append(
            ReplayEvent(ts=warning.ts, rule=warning.rule, kind="warned", action="", message=warning.message)
        )
        if self._warn_next is not None:
            self._warn_next(warning)

    # --- the loop --------------------------------------------------------------------------

    def feed(self, tick: MarketDataUpdated) -> None:
        """One price: the broker, the bars, and on a closed bar the sweep and the strategies."""
        if tick.symbol not in self.instruments:
            return
        if tick.ts > self.clock.now():
            self.clock.set_time(tick.ts)
        self.ticks += 1
        self.broker.on_market_data(tick)
        if self.bars.on_market_data(tick):
            self.risk.sweep()
            self._strategy_passes()
            self._sample()

    def _strategy_passes(self) -> None:
        if self.risk.state is not TradingState.ACTIVE:
            return  # every entry would be denied (the desk does not ask either)
        closes = self.bars.closes()
        for strategy in self.strategies:
            last = {s: p for s in strategy.symbols if (p := self.broker.last_price(s)) is not None}
            open_symbols = frozenset(t.symbol for t in self.trades.active(strategy.name))
            recommendations = strategy.evaluate(MarketView(closes, self.instruments, open_symbols, last))
            if recommendations:
                self.trades.run_pass(strategy.name, recommendations)

    def _sample(self) -> None:
        room = self.risk.headroom()
        pnl = self.risk.pnl
        daily = None if room.daily_loss_left is None else float(pnl.cash) + room.daily_loss_left
        self.equity.append(EquityPoint(self.clock.now(), pnl.equity, room.drawdown_floor, daily))

    def result(self) -> ReplayResult:
        self._sample()
        return ReplayResult(
            name=self.name,
            events=tuple(self.events),
            equity=tuple(self.equity),
            final_equity=self.risk.pnl.equity,
            final_state=self.risk.state.value,
            ticks=self.ticks,
            bars=self.bars.bars_closed,
            fills=self.broker.statistics().fills,
            rules=tuple(self.risk.engine.rules),
        )

    def close(self) -> None:
        self.trades.close()
        self.risk.stop()
        self._db.close()
        self._dir.cleanup()


def replay(
    config: DeskConfig,
    risk: RiskConfig,
    prices: Sequence[MarketDataUpdated],
    *,
    name: str = "replay",
    on_desk: Callable[[ReplayDesk], None] | None = None,
) -> ReplayResult:
    """Run ``prices`` through a ``ReplayDesk`` with ``risk``; ``ValueError`` when there are none."""
    if not prices:
        raise ValueError("no prices to replay")
    desk = ReplayDesk(config, risk, start=prices[0].ts, name=name)
    try:
        if on_desk is not None:
            on_desk(desk)
        _run(desk, prices)
        return desk.result()
    finally:
        desk.close()


def _run(desk: ReplayDesk, prices: Iterable[MarketDataUpdated]) -> None:
    feed = desk.feed
    for tick in prices:
        feed(tick)
