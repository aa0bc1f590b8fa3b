"""Paper broker matching throughput: ticks per second with 1,000 resting orders over 10 symbols.

    .venv/bin/python bench/bench_broker.py [--quick]

Most resting orders sit far from the price (limits and stops 2-10 % away); a subscriber
replaces every filled order with a new near one, so some orders cross all along. The
raw baseline is the same tick stream over a dict of sorted price levels per symbol doing
only the four best-level comparisons a matcher needs (no orders, events or bus).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from trading.broker import PaperBroker
from trading.bus import EventBus
from trading.clock import TestClock
from trading.model import Instrument, MarketDataUpdated, Order, OrderFilled, OrderSide, OrderType

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


def bench_broker(ticks: list[MarketDataUpdated], clock: TestClock) -> tuple[float, int]:
    rng = random.Random(1)
    bus = EventBus()
    broker = PaperBroker(
        bus, clock, [Instrument(symbol=s, tick_size=0.01) for s in SYMBOLS], starting_balance=1e9
    )
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
    return len(ticks) / elapsed, fills


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
    runs = [bench_broker(ticks, clock) for _ in range(3)]
    rate, fills = max(runs)
    print(
        f"paper broker: {n:,} ticks, {RESTING:,} resting orders over {len(SYMBOLS)} symbols, {fills:,} fills"
    )
    print(f"  PaperBroker.on_market_data: {rate:,.0f} ticks/s (best of 3; {1e6 / rate:.2f} us/tick)")
    print(f"  raw baseline (sorted levels, 4 comparisons): {baseline:,.0f} ticks/s")
    print(f"  ratio broker/baseline: {rate / baseline:.3f}")
    print(f"  goal >= 100,000 ticks/s: {'met' if rate >= 100_000 else 'NOT met'}")


if __name__ == "__main__":
    main()
