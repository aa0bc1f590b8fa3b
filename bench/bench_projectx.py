"""ProjectX market hub benchmark: the cost of turning one ``GatewayQuote`` into a mark.

The path measured is what the adapter adds once pysignalr has decoded a message: the
``MarketFeed``'s handler (the quote translated by ``QuoteTranslator``, its arrival timed, the
mark queued by symbol), the flush (``VenueBroker.on_market_data``: the symbol's mark on the
books, a held position's last price, ``MarketDataUpdated`` published on a bus with a
subscriber). Quotes are whole, as the fake's market hub sends them, on two contracts, and every
one moves the last price (the worst case: a quote that only moves the book publishes nothing).
Two shapes: each quote handed on by itself (a quiet hub: the loop turns between quotes), and
a burst handled back to back (coalesced: one mark per symbol per loop turn). The baseline,
measured in the same run on the same bytes, is a bare ``json.loads`` of the SignalR record
(what pysignalr does before it calls the handler).

Goal: <= 20 us per quote handed on by itself.

    .venv/bin/python bench/bench_projectx.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._timing import time_per
from trading.broker.projectx.client import GatewayAccount, ProjectXClient
from trading.broker.projectx.config import ProjectXSettings
from trading.broker.projectx.contracts import ContractMap
from trading.broker.projectx.interest import ContractInterest
from trading.broker.projectx.legs import BracketLegs
from trading.broker.projectx.market import MarketFeed
from trading.broker.projectx.quotes import QuoteTranslator
from trading.broker.projectx.session import GatewaySession
from trading.broker.projectx.stream import ProjectXStream
from trading.broker.projectx.translator import HubTranslator
from trading.broker.venue import VenueBroker
from trading.bus import EventBus
from trading.clock import LiveClock
from trading.model import Event, Instrument

ES = Instrument(symbol="ES", tick_size=0.25, multiplier=50, commission=1.40)
NQ = Instrument(symbol="NQ", tick_size=0.25, multiplier=20, commission=1.40)
CONTRACTS = {"ES": "CON.F.US.EP.Z25", "NQ": "CON.F.US.ENQ.Z25"}
STAMP = "2026-01-06T15:00:00.123456+00:00"


def _records(count: int) -> list[bytes]:
    """``count`` GatewayQuote records, alternating ES and NQ, each a new last price."""
    out = []
    for i in range(count):
        symbol = "ES" if i % 2 == 0 else "NQ"
        base = 5000.0 if symbol == "ES" else 21000.0
        last = base + 0.25 * (i % 40 - 20)
        quote = {
            "symbol": f"F.US.{CONTRACTS[symbol].split('.')[3]}",
            "symbolName": f"/{symbol}",
            "lastPrice": last,
            "bestBid": last - 0.25,
            "bestAsk": last,
            "change": last - base,
            "changePercent": (last - base) / base * 100,
            "open": base,
            "high": base + 10,
            "low": base - 10,
            "volume": 100_000 + i,
            "lastUpdated": STAMP,
            "timestamp": STAMP,
        }
        record = {"type": 1, "target": "GatewayQuote", "arguments": [CONTRACTS[symbol], quote]}
        out.append(json.dumps(record, separators=(",", ":")).encode())
    return out


def _desk() -> tuple[MarketFeed, VenueBroker, GatewaySession, list[int]]:
    """The ProjectX venue broker with its market feed, built as the factory builds them (the
    session never called: nothing is sent)."""
    bus = EventBus()
    seen = [0]

    def count(event: Event) -> None:
        seen[0] += 1

    bus.subscribe(Event, count)
    clock = LiveClock()
    settings = ProjectXSettings(
        account="BENCH", api_url="http://127.0.0.1:9", hub_url="http://127.0.0.1:9/hubs/user"
    )
    session = GatewaySession(settings.api_url, "bench", "bench-key")
    account = GatewayAccount({"id": 1, "name": "BENCH", "simulated": True})
    contracts = ContractMap(CONTRACTS)
    interest = ContractInterest(CONTRACTS.values())
    legs = BracketLegs()
    client = ProjectXClient(session, account, contracts=contracts, legs=legs, interest=interest)
    feed = MarketFeed(
        session, settings.market_url, QuoteTranslator(contracts.symbol, clock, interest), interest, clock
    )
    stream = ProjectXStream(
        session, settings.hub_url, HubTranslator(1, contracts.symbol, legs, interest), market=feed
    )
    broker = VenueBroker(
        bus,
        clock,
        [ES, NQ],
        client=client,
        stream=stream,
        settings=settings,
        source="projectx",
        starting_balance=Decimal(50_000),
    )
    feed.on_mark = broker.on_market_data
    return feed, broker, session, seen


async def _adapter(records: list[bytes], *, burst: bool) -> tuple[float, int, int]:
    """(seconds per quote, marks published, quotes coalesced) for ``records`` decoded up front."""
    feed, broker, session, seen = _desk()
    args = [json.loads(raw)["arguments"] for raw in records]
    handle = feed.on_quote  # the handler pysignalr calls with the decoded arguments
    flush = feed.flush
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        if burst:
            for arguments in args:
                await handle(arguments)
            flush()
        else:
            for arguments in args:
                await handle(arguments)
                flush()  # the loop's next turn: each quote handed on by itself
        per = (time.perf_counter() - start) / len(args)
    finally:
        gc.enable()
    assert broker.last_price("ES") is not None and broker.last_price("NQ") is not None
    marks, coalesced = seen[0], feed.coalesced
    broker.close()
    session.close()
    return per, marks, coalesced


def _run(count: int, rounds: int) -> dict[str, float]:
    records = _records(count)
    loads_us = min(time_per(json.loads, records) for _ in range(rounds)) * 1e6
    single = [asyncio.run(_adapter(records, burst=False)) for _ in range(rounds)]
    burst = [asyncio.run(_adapter(records, burst=True)) for _ in range(rounds)]
    single_us = min(per for per, _, _ in single) * 1e6
    burst_us = min(per for per, _, _ in burst) * 1e6
    return {
        "loads": loads_us,
        "single": single_us,
        "burst": burst_us,
        "marks_single": single[0][1] / count,
        "marks_burst": burst[0][1],
        "coalesced": burst[0][2],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer quotes (a smoke run)")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    count, rounds = (5_000, 2) if args.quick else (50_000, 5)
    r = _run(count, rounds)
    print(f"ProjectX GatewayQuote to mark ({count:,} quotes, 2 contracts, best of {rounds}):")
    print(f"  bare json.loads of the SignalR record:          {r['loads']:7.2f} us")
    print(
        f"  adapter, each quote handed on (translate+mark):  {r['single']:7.2f} us  "
        f"({r['marks_single']:.2f} events/quote)"
    )
    print(f"  ratio adapter / json.loads:                      {r['single'] / r['loads']:7.2f}")
    print(
        f"  adapter, one burst (coalesced):                  {r['burst']:7.2f} us  "
        f"({r['marks_burst']:.0f} events for {count:,} quotes, {r['coalesced']:,} coalesced)"
    )
    print(f"  goal <= 20 us per quote handed on: {'met' if r['single'] <= 20 else 'NOT met'}")


if __name__ == "__main__":
    main()
