"""``MarketPump``: the desk's market step: due ticks from the feed to the broker and the bars.

A simulated feed is stepped up to a target time (the clock's now, or the end of the step a
``run_simulated`` is making); a CSV replay hands over its next ticks (one at a time when it
replays at a speed, else in batches) and moves a ``TestClock`` to each tick's time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from trading.broker import CsvReplayFeed, DeskBroker, SimulatedFeed
from trading.clock import Clock, TestClock
from trading.desk._market import BarHistory
from trading.model import MarketDataUpdated

__all__ = ["MarketPump"]

_CSV_BATCH = 500


class MarketPump:
    def __init__(
        self,
        feed: SimulatedFeed | CsvReplayFeed | None,
        broker: DeskBroker,
        bars: BarHistory,
        clock: Clock,
        *,
        on_bar_close: Callable[[float], None],
    ) -> None:
        self.feed = feed
        self.bars = bars
        self._broker = broker
        self._clock = clock
        self._on_bar_close = on_bar_close
        self.cycles = 0

    def pump(self, target: datetime | None = None) -> bool:
        """Feed every tick due by ``target`` (default: now) to the broker; True when a bar closed."""
        closed = False
        for tick in self._due(target):
            closed |= self._on_tick(tick)
        self.cycles += 1
        return closed

    def _due(self, target: datetime | None) -> list[MarketDataUpdated]:
        if self.feed is None:
            return []  # a venue's account: its marks come from the venue
        if isinstance(self.feed, SimulatedFeed):
            return self.feed.step(target or self._clock.now())
        return self.feed.next_ticks(1 if self.feed.speed is not None else _CSV_BATCH)

    def _on_tick(self, tick: MarketDataUpdated) -> bool:
        clock = self._clock
        if isinstance(clock, TestClock) and tick.ts > clock.now():
            clock.set_time(tick.ts)
        self._broker.on_market_data(tick)
        closed = self.bars.on_market_data(tick)
        if closed:
            self._on_bar_close(tick.ts.timestamp())
        return closed

    def __repr__(self) -> str:
        return f"MarketPump(cycles={self.cycles}, {self.bars!r})"
