"""Paper broker matching throughput: ticks per second with 1,000 resting orders over 10 symbols.

    .venv/bin/python bench/bench_broker.py [--quick]

Most resting orders sit far from the price (limits and stops 2-10 % away); a subscriber
replaces every filled order with a new near one, so some orders cross all along. The
raw baseline is the same tick stream over a dict of sorted price levels per symbol doing
only the four best-level comparisons a matcher needs (no orders, events or bus).

The broker runs twice per round: journal off (books in memory only) and journal on (a
real SQLite file in a temporary directory, every step committed before it is published);
the ratio on/off is taken within the same round, and the commit of each step is timed.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from trading.broker import PaperBroker
from trading.bus import EventBus
from trading.clock import TestClock
from trading.model import (
    Instrument,
    JournalStep,
    MarketDataUpdated,
    Order,
    OrderFilled,
    OrderSide,
    OrderType,
)
from trading.storage import Database, Journal

SYMBOLS = [f"S{i}" for i in range(10)]
RESTING = 1000
NEAR_SHARE = 0.05  # of resting orders placed within a few ticks, so fills keep happening


def make_ticks(n: int, clock: TestClock, rng: random.Random) -> list[MarketDataUpdated]:
    prices = dict.fromkeys(SYMBOLS, 100.0)
    out = []
    for i in range(n):
        sym = SYMBOLS[i % len(SYMBOLS)]
        prices[sym] = max(1.0, round(prices[sym] + rng.choice((-0.01, 0.0, 0.01)), 2))
        out.append(MarketDataUpdated(ts=clock.now(), symbol=sym, price=prices[sym]))
    return out


def resting_order(rng: random.Random, sym: str, mid: float, near: bool) -> Order:
    side = rng.choice((OrderSide.BUY, OrderSide.SELL))
    kind = rng.choice((OrderType.LIMIT, OrderType.STOP))
    away = rng.uniform(0.01, 0.05) if near else rng.uniform(2.0, 10.0)
    below = (side is OrderSide.BUY) == (kind is OrderType.LIMIT)
    price = round(mid - away if below else mid + away, 2)
    if kind is OrderType.LIMIT:
        return Order(symbol=sym, side=side, quantity=1, order_type=kind, price=price)
    return Order(symbol=sym, side=side, quantity=1, order_type=kind, stop_price=price)


class TimedJournal:
    """The real journal, with the time of each ``commit`` (a step) recorded."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self.times: list[float] = []

    def commit(self, step: JournalStep) -> str | None:
        start = time.perf_counter()
        problem = self.journal.commit(step)
        self.times.append(time.perf_counter() - start)
        return problem

    def flush(self) -> str | None:
        return self.journal.flush()

    @property
    def pending(self) -> int:
        return self.journal.pending


def bench_broker(
    ticks: list[MarketDataUpdated], clock: TestClock, journal: TimedJournal | None = None
) -> tuple[float, int]:
    rng = random.Random(1)
    bus = EventBus()
    broker = PaperBroker(
        bus,
        clock,
        [Instrument(symbol=s, tick_size=0.01) for s in SYMBOLS],
        starting_balance=1e9,
        journal=journal,
    )
    if journal is not None:
        assert broker.commit_books() is None
    bus.subscribe(MarketDataUpdated, lambda e: None)  # a risk-engine stand-in: one subscriber per tick
    for i in range(RESTING):
        sym = SYMBOLS[i % len(SYMBOLS)]
        broker.submit(resting_order(rng, sym, 100.0, near=rng.random() < NEAR_SHARE))
    fills = 0

    def replace(e: OrderFilled) -> None:  # keep 1,000 resting: each fill brings a new near order
        nonlocal fills
        fills += 1
        broker.submit(resting_order(rng, e.symbol, e.price, near=True))

    bus.subscribe(OrderFilled, replace)
    on_tick = broker.on_market_data
    start = time.perf_counter()
    for tick in ticks:
        on_tick(tick)
    elapsed = time.perf_counter() - start
    assert len(broker.open_orders()) == RESTING, broker
    assert journal is None or journal.pending == 0, "the journal could not write"
    return len(ticks) / elapsed, fills


def bench_journaled(ticks: list[MarketDataUpdated], clock: TestClock) -> tuple[float, int, list[float]]:
    with tempfile.TemporaryDirectory() as folder:
        db = Database(Path(folder) / "desk.db")
        timed = TimedJournal(Journal(db))
        try:
            rate, fills = bench_broker(ticks, clock, timed)
        finally:
            timed.journal.close()
            db.close()
    return rate, fills, timed.times


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def bench_baseline(ticks: list[MarketDataUpdated]) -> float:
    rng = random.Random(1)
    levels: dict[str, list[list[float]]] = {s: [[], [], [], []] for s in SYMBOLS}
    for i in range(RESTING):
        book = levels[SYMBOLS[i % len(SYMBOLS)]]
        book[i % 4].append(100.0 + rng.choice((-1, 1)) * rng.uniform(2.0, 10.0))
    for book in levels.values():
        for side in book:
            side.sort()
    hits = 0
    start = time.perf_counter()
    for tick in ticks:
        buy_lim, sell_lim, buy_stop, sell_stop = levels[tick.symbol]
        p = tick.price
        if buy_lim and buy_lim[-1] >= p:
            hits += 1
        if sell_lim and sell_lim[0] <= p:
            hits += 1
        if buy_stop and buy_stop[0] <= p:
            hits += 1
        if sell_stop and sell_stop[-1] >= p:
            hits += 1
    return len(ticks) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 ticks instead of 300,000")
    args = parser.parse_args()
    n = 20_000 if args.quick else 300_000
    clock = TestClock()
    ticks = make_ticks(n, clock, random.Random(0))
    baseline = max(bench_baseline(ticks) for _ in range(3))
    rounds = []  # (journal off, journal on, commit times): the two runs of a round back to back
    for _ in range(3):
        off, fills = bench_broker(ticks, clock)
        on, _, times = bench_journaled(ticks, clock)
        rounds.append((off, on, times))
    rate = max(r[0] for r in rounds)
    _, on_rate, times = max(rounds, key=lambda r: r[1])
    ratio = max(r[1] / r[0] for r in rounds)
    print(
        f"paper broker: {n:,} ticks, {RESTING:,} resting orders over {len(SYMBOLS)} symbols, {fills:,} fills"
    )
    print(f"  PaperBroker.on_market_data: {rate:,.0f} ticks/s (best of 3; {1e6 / rate:.2f} us/tick)")
    print(f"  raw baseline (sorted levels, 4 comparisons): {baseline:,.0f} ticks/s")
    print(f"  ratio broker/baseline: {rate / baseline:.3f}")
    print(f"  goal >= 100,000 ticks/s: {'met' if rate >= 100_000 else 'NOT met'}")
    print(
        f"  journal on (SQLite file, WAL, synchronous=NORMAL): {on_rate:,.0f} ticks/s "
        f"(best of 3; {1e6 / on_rate:.2f} us/tick); ratio on/off in the same round: {ratio:.3f}"
    )
    print(
        f"  journal commit per step: {len(times):,} steps, p50 {percentile(times, 0.5) * 1e6:.0f} us, "
        f"p99 {percentile(times, 0.99) * 1e6:.0f} us"
    )
    print(f"  goal >= 100,000 ticks/s with the journal on: {'met' if on_rate >= 100_000 else 'NOT met'}")


if __name__ == "__main__":
    main()
