"""Risk engine benchmark.

1. Throughput: 1,000,000 synthetic events (ticks, order and position events) through the
   engine with a full config of 22 rule instances, against a raw baseline measured in the
   same run: a plain loop that dispatches each event by type to the same number of bound
   methods that do nothing. Also the full manager path (trackers + engine).
2. Fill-to-flatten latency: a stop fill realizes a loss past the daily limit; measured from
   the ``OrderFilled`` reaching its first subscriber (the fill's publish) to (a) the flatten's
   closing orders having been submitted to the PaperBroker, and (b) a subscriber registered
   after the risk manager seeing the flatten's ``OrderSubmitted`` (what the recorder, trade
   manager and dashboard wait for). Three runs: no journal; the journal on a real SQLite file
   (the broker commits every step, the risk manager writes its records off the loop through
   the background writer); and the same with the activity log busy on that file.

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
from trading.storage import ActivityLog, Database, Journal, RiskRepository, ViolationRepository

SYMBOLS = ("ES", "NQ", "CL", "GC")
INSTRUMENTS = [
    Instrument(symbol="ES", tick_size=0.25, multiplier=50.0, commission=2.0),
    Instrument(symbol="NQ", tick_size=0.25, multiplier=20.0, commission=2.0),
    Instrument(symbol="CL", tick_size=0.01, multiplier=1000.0, commission=2.0),
    Instrument(symbol="GC", tick_size=0.1, multiplier=100.0, commission=2.0),
]
START = datetime(2026, 1, 6, 15, 0, tzinfo=UTC)

# 22 rule instances; limits wide enough that the stream itself never breaches them.
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
    "symbol_groups": {
        "groups": {
            "sp": {"members": {"ES": 1, "MES": 0.1}, "limit": 1e6},
            "nasdaq": {"members": {"NQ": 1, "MNQ": 0.1}, "limit": 1e6},
        }
    },
    "risk_per_trade": {"max_loss": 1e9},
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


def _percentiles(values: list[float]) -> dict[str, float]:
    values = sorted(values)
    return {
        "p50": values[len(values) // 2],
        "p99": values[max(0, int(len(values) * 0.99) - 1)],
        "max": values[-1],
        "mean": statistics.fmean(values),
    }


def latency(samples: int, *, journal_on: bool, activity_rows: int = 0) -> dict[str, Any]:
    """Fill to flatten, and fill to the moment a subscriber after the risk manager sees the
    flatten's ``OrderSubmitted``. ``journal_on``: the broker commits every step to a journal on a
    real SQLite file, and the risk manager records to it (the desk's wiring). ``activity_rows``:
    that many activity log rows are queued per sample (on the same file, the background writer's
    batches competing with the journal for SQLite's write lock, as a busy desk's log does)."""
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(Path(tmp) / "desk.db")
        clock = TestClock(START)
        bus = EventBus()
        journal = Journal(db) if journal_on else None
        broker = TimedPaperBroker(bus, clock, INSTRUMENTS[:2], journal=journal)
        if journal is not None:
            assert broker.commit_books() is None
        activity = ActivityLog(db).start() if activity_rows else None
        filled_at = [0.0]
        seen_at = [0.0]

        def on_fill(event: OrderFilled) -> None:
            filled_at[0] = time.perf_counter()

        def probe(event: OrderSubmitted) -> None:
            if event.symbol == "NQ" and not seen_at[0]:
                seen_at[0] = time.perf_counter()

        bus.subscribe(OrderFilled, on_fill)  # first subscriber: the moment the fill is published
        rules = {
            "daily_realized_loss": {"limit": 500},
            **{k: v for k, v in FULL_RULES.items() if k not in ("daily_realized_loss", "shadow_daily_loss")},
        }
        stores: dict[str, Any] = {}
        if journal is not None:
            stores = {"store": RiskRepository(db), "fills": journal.reader}
        rm = RiskManager(bus, broker, clock, parse_risk_config({"rules": rules}), **stores)
        rm.start()
        bus.subscribe(OrderSubmitted, probe)  # after the risk manager: what the others see
        flatten: list[float] = []
        others: list[float] = []

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
            if activity is not None:
                for i in range(activity_rows):
                    activity.log_activity("INFO", "bench", "a busy desk's log line", n=i)
                time.sleep(0.0005)  # the writer wakes on its own timer: give it time to take the rows
            broker.flattened_at = seen_at[0] = 0.0
            tick("ES", 4985.0)  # the stop fills: -750 realized -> flatten (NQ) and halt
            assert broker.flattened_at > 0.0 and seen_at[0] > 0.0, "the daily loss limit did not flatten"
            flatten.append((broker.flattened_at - filled_at[0]) * 1e6)
            others.append((seen_at[0] - filled_at[0]) * 1e6)
            tick("NQ", 18000.0)  # the flatten fills
            clock.set_time(rm.next_reset)  # the daily reset: ACTIVE again for the next sample
            rm.sweep()
        rm.stop()
        written = violations = 0
        if journal is not None:
            violations = ViolationRepository(db).count()
            journal.close()
        writer = db.writer().statistics()
        retries = writer.retries
        if activity is not None:
            activity.close()
            written = writer.written
        db.close()
    return {
        "samples": samples,
        "flatten": _percentiles(flatten),
        "others": _percentiles(others),
        "violations": violations,
        "activity_written": written,
        "writer_retries": retries,
    }


def _report(name: str, lat: dict[str, Any]) -> None:
    for key, label in (("flatten", "fill to flatten submitted"), ("others", "fill to others see OrderSubmitted")):
        p = lat[key]
        print(
            f"  {name:<34} {label:<34} p50 {p['p50']:6.0f} us  p99 {p['p99']:6.0f} us  "
            f"max {p['max']:7.0f} us  (goal p99 <= 1000 us)"
        )


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
    samples = 200 if args.quick else 2000
    print(f"fill-to-flatten latency over {samples:,} samples per run (PaperBroker, {len(FULL_RULES)} rule instances):")
    runs = {
        "journal off": latency(samples, journal_on=False),
        "journal on (desk.db)": latency(samples, journal_on=True),
        "journal on, activity log busy": latency(samples, journal_on=True, activity_rows=200),
    }
    for name, lat in runs.items():
        _report(name, lat)
    busy = runs["journal on, activity log busy"]
    print(
        f"  activity rows written during the busy run: {busy['activity_written']:,}; "
        f"writer retries (database busy): {busy['writer_retries']}; "
        f"violation rows recorded (journal on): {runs['journal on (desk.db)']['violations']:,}"
    )
    base = runs["journal off"]["others"]["p99"]
    print(
        "  same-run ratios of the others-see p99 to journal off: "
        + ", ".join(f"{name} {lat['others']['p99'] / base:.2f}x" for name, lat in runs.items())
    )


if __name__ == "__main__":
    main()
