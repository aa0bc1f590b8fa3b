"""Risk engine benchmark.

1. Throughput: 1,000,000 synthetic events (ticks, order and position events) through the
   engine with a full config of 20 rule instances, against a raw baseline measured in the
   same run: a plain loop that dispatches each event by type to the same number of bound
   methods that do nothing. Also the full manager path (trackers + engine).
2. Fill-to-flatten latency: a stop fill realizes a loss past the daily limit; measured from
   the ``OrderFilled`` reaching its first subscriber to the flatten's closing orders having
   been submitted to the PaperBroker (real SQLite repositories attached).

    .venv/bin/python bench/bench_risk.py [--quick]
"""

from __future__ import annotations

import argparse
import gc
import logging
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from trading.broker import PaperBroker
from trading.bus import EventBus
from trading.clock import TestClock
from trading.model import (
    Event,
    Instrument,
    MarketDataUpdated,
    Order,
    OrderAccepted,
    OrderFilled,
    OrderSide,
    OrderSubmitted,
    OrderType,
    PositionChanged,
    PositionClosed,
    PositionOpened,
)
from trading.risk import RiskManager, parse_risk_config
from trading.storage import AuditRepository, Database, LockoutRepository, ViolationRepository

SYMBOLS = ("ES", "NQ", "CL", "GC")
INSTRUMENTS = [
    Instrument(symbol="ES", tick_size=0.25, multiplier=50.0, commission=2.0),
    Instrument(symbol="NQ", tick_size=0.25, multiplier=20.0, commission=2.0),
    Instrument(symbol="CL", tick_size=0.01, multiplier=1000.0, commission=2.0),
    Instrument(symbol="GC", tick_size=0.1, multiplier=100.0, commission=2.0),
]
START = datetime(2026, 1, 6, 15, 0, tzinfo=UTC)

# 20 rule instances; limits wide enough that the stream itself never breaches them.
FULL_RULES: dict[str, Any] = {
    "daily_realized_loss": {"limit": 1e9},
    "daily_realized_profit_target": {"target": 1e9},
    "trailing_drawdown": {"max_drawdown": 1e9},
    "unrealized_loss": {"limit": 1e9},
    "es_unrealized_loss": {"kind": "unrealized_loss", "limit": 1e9, "symbols": ["ES"]},
    "nq_unrealized_loss": {"kind": "unrealized_loss", "limit": 1e9, "symbols": ["NQ"]},
    "unrealized_profit": {"target": 1e9},
    "cl_unrealized_profit": {"kind": "unrealized_profit", "target": 1e9, "symbols": ["CL"]},
    "max_contracts": {"limit": 1e6},
    "max_contracts_per_instrument": {"limit": 1e6},
    "es_contracts": {"kind": "max_contracts_per_instrument", "limit": 1e6, "per_symbol": {"ES": 1e6}},
    "trade_frequency_limit": {"per_minute": {"max_trades": 10**9, "cooldown_s": 60}},
    "hourly_trades": {"kind": "trade_frequency_limit", "per_hour": {"max_trades": 10**9, "cooldown_s": 60}},
    "cooldown_after_loss": {"minutes": 1, "min_loss": 1e9},
    "no_stop_loss_grace": {"grace_s": 1e9},
    "session_hours": {
        "open": "00:00",
        "close": "23:59",
        "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
        "flatten_at_close": True,
    },
    "symbol_blocks": {"symbols": ["GME"]},
    "max_order_rate": {"max_orders": 10**9, "interval_s": 1.0},
    "shadow_daily_loss": {"kind": "daily_realized_loss", "limit": 1e9, "mode": "shadow"},
    "shadow_drawdown": {"kind": "trailing_drawdown", "max_drawdown": 1e9, "mode": "shadow"},
}


def synthetic_events(n: int, seed: int = 7) -> list[Event]:
    """~94% ticks, the rest order and position events, all on four symbols."""
    rng = random.Random(seed)
    prices = {"ES": 5000.0, "NQ": 18000.0, "CL": 75.0, "GC": 2000.0}
    events: list[Event] = []
    ts = START
    step = timedelta(milliseconds=1)
    for i in range(n):
        ts += step
        symbol = SYMBOLS[i & 3]
        roll = rng.random()
        if roll < 0.94:
            prices[symbol] += rng.choice((-0.25, 0.0, 0.25))
            events.append(MarketDataUpdated(ts=ts, symbol=symbol, price=prices[symbol]))
        elif roll < 0.955:
            events.append(
                OrderSubmitted(
                    ts=ts,
                    order_id=f"O{i}",
                    symbol=symbol,
                    side=OrderSide.BUY,
                    quantity=1,
                    order_type=OrderType.MARKET,
                )
            )
        elif roll < 0.97:
            events.append(OrderAccepted(ts=ts, order_id=f"O{i}", symbol=symbol))
        elif roll < 0.985:
            events.append(
                OrderFilled(
                    ts=ts,
                    order_id=f"O{i}",
                    symbol=symbol,
                    side=OrderSide.BUY,
                    quantity=1,
                    price=prices[symbol],
                    filled_quantity=1,
                    order_quantity=1,
                )
            )
        else:
            kind = (PositionOpened, PositionChanged, PositionClosed)[i % 3]
            events.append(
                kind(
                    ts=ts,
                    symbol=symbol,
                    quantity=1.0 if kind is not PositionClosed else 0.0,
                    avg_price=prices[symbol],
                    realized_pnl=0.0,
                    last_price=prices[symbol],
                )
            )
    return events


class _Noop:
    def on_event(self, event: Event) -> None:
        return None


def _run_table(events: list[Event], table: dict[type, tuple[Any, ...]]) -> float:
    start = time.perf_counter()
    for event in events:
        for handler in table[event.__class__]:
            handler(event)
    return time.perf_counter() - start


def _run_strict(events: list[Event], strict: list[tuple[Any, ...]]) -> float:
    start = time.perf_counter()
    for event, handlers in zip(events, strict, strict=True):
        for handler in handlers:
            handler(event)
    return time.perf_counter() - start


def _run_engine(events: list[Event], on_event: Any) -> float:
    start = time.perf_counter()
    for event in events:
        on_event(event)
    return time.perf_counter() - start


def _run_manager(events: list[Event], table: dict[type, Any]) -> float:
    start = time.perf_counter()
    for event in events:
        table[event.__class__](event)
    return time.perf_counter() - start


def build_manager(bus: EventBus, clock: TestClock, broker: PaperBroker, **repos: Any) -> RiskManager:
    rm = RiskManager(bus, broker, clock, parse_risk_config({"rules": FULL_RULES}), **repos)
    rm.start()
    return rm


def throughput(n: int) -> dict[str, float]:
    clock = TestClock(START)
    bus = EventBus()
    broker = PaperBroker(bus, clock, INSTRUMENTS)
    rm = build_manager(bus, clock, broker)
    for symbol, price in (("ES", 5000.0), ("NQ", 18000.0), ("CL", 75.0)):  # open positions: work per tick
        entry = rm.pnl.symbol(symbol)
        entry.quantity, entry.avg_price, entry.last_price = 1.0, price, price
    events = synthetic_events(n)
    engine = rm.engine
    # baseline: every rule instance's bound method, dispatched by event type (the definition)
    noop = _Noop()
    per_rule = tuple(noop.on_event for _ in engine.rules)
    baseline_table = {t: per_rule for t in {type(e) for e in events}}
    # strict baseline: exactly as many no-op calls as the engine's index makes for each event
    noops = {k: tuple(noop.on_event for _ in range(k)) for k in range(len(engine.rules) + 1)}
    strict = [noops[len(engine.handlers_for(e))] for e in events]
    calls = sum(len(h) for h in strict)
    dispatch = baseline_table
    manager_table = {t: engine.on_event for t in dispatch}
    manager_table[MarketDataUpdated] = rm._on_market
    for t in (PositionOpened, PositionChanged, PositionClosed):
        manager_table[t] = rm._on_position

    runs = {
        "baseline": lambda: _run_table(events, baseline_table),
        "strict": lambda: _run_strict(events, strict),
        "engine": lambda: _run_engine(events, engine.on_event),
        "manager": lambda: _run_manager(events, manager_table),
    }
    gc.disable()
    try:
        results: dict[str, list[float]] = {name: [] for name in runs}
        for _ in range(3):  # interleaved, best of three: the machine is shared
            for name, run in runs.items():
                results[name].append(run())
    finally:
        gc.enable()
    rm.stop()
    best = {k: min(v) for k, v in results.items()}
    return {
        "events": n,
        "rules": len(engine.rules),
        "handler_calls_per_event": calls / n,
        "baseline_eps": n / best["baseline"],
        "strict_eps": n / best["strict"],
        "engine_eps": n / best["engine"],
        "manager_eps": n / best["manager"],
        "violations": engine.violations + engine.shadow_violations,
    }


class TimedPaperBroker(PaperBroker):
    """Notes when flatten_all has submitted its closing orders (instrumentation only)."""

    flattened_at = 0.0

    def flatten_all(self, reason: str = "") -> list[Order]:
        orders = super().flatten_all(reason)
        self.flattened_at = time.perf_counter()
        return orders


def latency(samples: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(Path(tmp) / "bench.db")
        clock = TestClock(START)
        bus = EventBus()
        broker = TimedPaperBroker(bus, clock, INSTRUMENTS[:2])
        filled_at = [0.0]

        def on_fill(event: OrderFilled) -> None:
            filled_at[0] = time.perf_counter()

        bus.subscribe(OrderFilled, on_fill)  # first subscriber: the moment the fill is published
        rules = {
            "daily_realized_loss": {"limit": 500},
            **{k: v for k, v in FULL_RULES.items() if k not in ("daily_realized_loss", "shadow_daily_loss")},
        }
        rm = RiskManager(
            bus,
            broker,
            clock,
            parse_risk_config({"rules": rules}),
            violations=ViolationRepository(db),
            lockouts=LockoutRepository(db),
            audit=AuditRepository(db),
        )
        rm.start()
        out: list[float] = []

        def tick(symbol: str, price: float) -> None:
            clock.advance(1)
            broker.on_market_data(MarketDataUpdated(ts=clock.now(), symbol=symbol, price=price))

        for _ in range(samples):
            tick("ES", 5000.0)
            tick("NQ", 18000.0)
            broker.submit(Order(symbol="NQ", side=OrderSide.BUY, quantity=1))
            broker.submit(Order(symbol="ES", side=OrderSide.BUY, quantity=1))
            tick("NQ", 18000.0)
            tick("ES", 5000.0)
            broker.submit(
                Order(
                    symbol="ES", side=OrderSide.SELL, quantity=1, order_type=OrderType.STOP, stop_price=4990.0
                )
            )
            broker.flattened_at = 0.0
            tick("ES", 4985.0)  # the stop fills: -750 realized -> flatten (NQ) and halt
            assert broker.flattened_at > 0.0, "the daily loss limit did not flatten"
            out.append((broker.flattened_at - filled_at[0]) * 1e6)
            tick("NQ", 18000.0)  # the flatten fills
            clock.set_time(rm.next_reset)  # the daily reset: ACTIVE again for the next sample
            rm.sweep()
        rm.stop()
        db.close()
    out.sort()
    return {
        "samples": samples,
        "p50_us": out[len(out) // 2],
        "p99_us": out[int(len(out) * 0.99) - 1],
        "max_us": out[-1],
        "mean_us": statistics.fmean(out),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 events and 200 latency samples")
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)  # enforcement logs every flatten; not what is measured
    n = 100_000 if args.quick else 1_000_000
    t = throughput(n)
    print(
        f"risk engine throughput: {t['events']:,} synthetic events, {t['rules']} rule instances, "
        f"{t['handler_calls_per_event']:.2f} rule handlers per event"
    )
    print(
        f"  raw baseline: a loop dispatching by type to {t['rules']} no-op bound methods (one per rule): "
        f"{t['baseline_eps']:>10,.0f} events/s"
    )
    print(
        f"  strict baseline: the engine's own call count ({t['handler_calls_per_event']:.2f}/event) of no-ops: "
        f"{t['strict_eps']:>10,.0f} events/s"
    )
    print(
        f"  RiskEngine.on_event (the rules):         {t['engine_eps']:>10,.0f} events/s  "
        f"ratio {t['engine_eps'] / t['baseline_eps']:.2f}x raw baseline (goal >= 0.5x), "
        f"{t['engine_eps'] / t['strict_eps']:.2f}x strict baseline"
    )
    print(
        f"  RiskManager handlers (trackers + rules): {t['manager_eps']:>10,.0f} events/s  "
        f"ratio {t['manager_eps'] / t['baseline_eps']:.2f}x raw baseline, "
        f"{t['manager_eps'] / t['strict_eps']:.2f}x strict baseline"
    )
    print(f"  violations raised by the stream: {t['violations']}")
    lat = latency(200 if args.quick else 2000)
    print(
        f"fill-to-flatten latency over {lat['samples']:,} samples (PaperBroker, SQLite repositories attached):"
    )
    print(
        f"  p50 {lat['p50_us']:.0f} us, p99 {lat['p99_us']:.0f} us, max {lat['max_us']:.0f} us, "
        f"mean {lat['mean_us']:.0f} us (goal p99 <= 1000 us)"
    )


if __name__ == "__main__":
    main()
