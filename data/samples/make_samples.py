"""Regenerate the sample CSVs in this folder (there is no market data download here).

    .venv/bin/python data/samples/make_samples.py

``es_1min.csv``: one session (08:30-15:00 Chicago, 2026-01-05) of ES one-minute OHLCV
bars aggregated from a seeded ``SimulatedFeed`` at 4 ticks/s. ``es_ticks.csv``: the first
600 of those ticks in the tick format. Same seed, same files.
"""

from __future__ import annotations

import csv
import sys
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from anywhere without installing

from trading.broker import SimulatedFeed, SimulatedFeedConfig, SimulatedSymbolConfig
from trading.clock import TestClock

HERE = Path(__file__).resolve().parent


def main() -> None:
    config = SimulatedFeedConfig(
        seed=20260105,
        ticks_per_second=4,
        symbols=(SimulatedSymbolConfig(symbol="ES", start_price=5000.0, volatility=0.00015, tick_size=0.25),),
    )
    clock = TestClock(datetime(2026, 1, 5, 14, 30, tzinfo=UTC))
    feed = SimulatedFeed(config, clock)
    bars, ticks = [], []
    for _minute in range(390):
        prices, volume = [], 0.0
        start = clock.now()
        for _ in range(240):
            [tick] = feed.next_ticks(1)
            prices.append(tick.price)
            volume += tick.volume
            if len(ticks) < 600:
                ticks.append((tick.ts.isoformat(), "ES", f"{tick.price:.2f}", f"{tick.volume:g}"))
            clock.advance(0.25)
        ohlc = (prices[0], max(prices), min(prices), prices[-1])
        bars.append((start.isoformat(), "ES", *(f"{p:.2f}" for p in ohlc), f"{volume:g}"))
    with (HERE / "es_1min.csv").open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["timestamp", "symbol", "open", "high", "low", "close", "volume"])
        writer.writerows(bars)
    with (HERE / "es_ticks.csv").open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["timestamp", "symbol", "price", "volume"])
        writer.writerows(ticks)


if __name__ == "__main__":
    main()
