"""Alpaca adapter benchmark: the cost of turning one ``trade_updates`` message into our events.

The path measured is what the adapter adds once the SDK has decoded a message: the raw dict
read into venue facts (``wire.update_from_json``), applied to the books by the mirror (each
fill booked once, the order's status moved, the position and the account updated) and its
events published on a bus with a subscriber. Messages are realistic (Alpaca's full order
entity, as the fake server sends them): for each of our orders ``new``, ``partial_fill`` and
``fill``, buys and sells alternating. The baseline, measured in the same run on the same
bytes, is a bare ``json.loads`` of the message (what the SDK does before handing it over),
and for reference alpaca-py's own pydantic ``TradeUpdate`` parse of it (which the adapter
skips). Also with the journal on (a real SQLite file, one commit per message).

Goal: <= 50 us per trade update (journal off).

    .venv/bin/python bench/bench_alpaca.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import tempfile
import warnings
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import uuid4

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._timing import time_per

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "websockets.legacy is deprecated", DeprecationWarning)
    from alpaca.trading.models import TradeUpdate

from trading.broker.alpaca.client import AlpacaClient
from trading.broker.alpaca.config import AlpacaSettings
from trading.broker.alpaca.stream import AlpacaStream
from trading.broker.venue import VenueBroker
from trading.bus import EventBus
from trading.clock import LiveClock
from trading.model import Event, Instrument, Order, OrderSide, OrderType
from trading.storage import Database, Journal

AAPL = Instrument(symbol="AAPL", tick_size=0.01, multiplier=1, asset_class="STOCK")
NOW = "2026-01-06T15:00:00.123456789Z"


def _order_json(order: Order, venue_id: str, status: str, filled: int, avg: str | None) -> dict[str, Any]:
    return {
        "id": venue_id,
        "client_order_id": order.order_id,
        "created_at": NOW,
        "updated_at": NOW,
        "submitted_at": NOW,
        "filled_at": NOW if status == "filled" else None,
        "expired_at": None,
        "canceled_at": None,
        "failed_at": None,
        "replaced_at": None,
        "replaced_by": None,
        "replaces": None,
        "asset_id": "b0b6dd9d-8b9b-48a9-ba46-b9d54906e415",
        "symbol": "AAPL",
        "asset_class": "us_equity",
        "notional": None,
        "qty": "10",
        "filled_qty": str(filled),
        "filled_avg_price": avg,
        "order_class": "simple",
        "order_type": "limit",
        "type": "limit",
        "side": order.side.value.lower(),
        "position_intent": "buy_to_open" if order.side is OrderSide.BUY else "sell_to_close",
        "time_in_force": "gtc",
        "limit_price": "100",
        "stop_price": None,
        "status": status,
        "extended_hours": False,
        "legs": None,
        "trail_percent": None,
        "trail_price": None,
        "hwm": None,
        "expires_at": None,
    }


def _messages(orders: list[Order]) -> list[bytes]:
    """new, partial_fill (4 @ 100), fill (6 @ 100.02) for each order, as JSON bytes."""
    out = []
    for i, order in enumerate(orders):
        venue_id = str(uuid4())
        sign = 1 if order.side is OrderSide.BUY else -1
        steps = [
            ("new", "new", 0, None, None),
            ("partial_fill", "partially_filled", 4, "100", ("4", "100")),
            ("fill", "filled", 10, "100.012", ("6", "100.02")),
        ]
        for event, status, filled, avg, execution in steps:
            data: dict[str, Any] = {
                "event": event,
                "order": _order_json(order, venue_id, status, filled, avg),
                "timestamp": NOW,
            }
            if execution is not None:
                held = filled if i % 2 == 0 else 10 - filled
                data.update(
                    execution_id=str(uuid4()),
                    qty=execution[0],
                    price=execution[1],
                    position_qty=str(sign * held),
                )
            out.append(json.dumps({"stream": "trade_updates", "data": data}, separators=(",", ":")).encode())
    return out


def _broker(journal: Journal | None) -> tuple[VenueBroker, AlpacaStream, list[int]]:
    bus = EventBus()
    seen = [0]

    def count(event: Event) -> None:
        seen[0] += 1

    bus.subscribe(Event, count)
    settings = AlpacaSettings(url="http://127.0.0.1:9", stream_url="ws://127.0.0.1:9/stream")
    stream = AlpacaStream("PKBENCH", "bench-secret", paper=True, url=settings.stream_url)
    broker = VenueBroker(
        bus,
        LiveClock(),
        [AAPL],
        client=AlpacaClient("PKBENCH", "bench-secret", paper=True, url=settings.url),
        stream=stream,
        settings=settings,
        source="alpaca",
        starting_balance=Decimal(100_000),
        journal=journal,
    )
    stream.bind(broker.apply_update, lambda up: None)
    return broker, stream, seen


def _our_orders(broker: VenueBroker, count: int) -> list[Order]:
    """Orders submitted before the broker is started: in the books NEW, their requests queued
    (never sent: the bench measures the way back)."""
    orders = []
    for i in range(count):
        side = OrderSide.BUY if i % 2 == 0 else OrderSide.SELL
        order = Order(symbol="AAPL", side=side, quantity=10, order_type=OrderType.LIMIT, price=100)
        broker.submit(order, check=False)
        orders.append(order)
    return orders


def _translation(count: int, journal: Journal | None) -> tuple[float, int]:
    broker, stream, seen = _broker(journal)
    messages = _messages(_our_orders(broker, count))
    loads = json.loads
    dispatch = stream.dispatch
    per = time_per(lambda raw: dispatch(loads(raw)), messages)
    assert not broker.open_orders() and broker.statistics().fills == 2 * count, broker.statistics()
    broker.close()
    return per, seen[0]


def _run(count: int, rounds: int) -> dict[str, float]:
    sample = _messages(_our_orders(_broker(None)[0], count))
    loads_us = min(time_per(json.loads, sample) for _ in range(rounds)) * 1e6
    sdk_us = (
        min(time_per(lambda raw: TradeUpdate(**json.loads(raw)["data"]), sample) for _ in range(rounds)) * 1e6
    )
    off = [_translation(count, None) for _ in range(rounds)]
    full_us = min(per for per, _ in off) * 1e6
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(Path(tmp) / "desk.db")
        on = []
        for round_ in range(rounds):
            journal = Journal(db, account=f"bench{round_}")
            on.append(_translation(count, journal)[0])
            journal.close()
        db.close()
    return {
        "loads": loads_us,
        "full": full_us,
        "adapter": full_us - loads_us,
        "sdk": sdk_us,
        "journal": min(on) * 1e6,
        "events_per_message": off[0][1] / (3 * count),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer messages (a smoke run)")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    count, rounds = (300, 2) if args.quick else (3000, 5)
    asyncio.set_event_loop(asyncio.new_event_loop())
    r = _run(count, rounds)
    print(f"Alpaca trade_updates translation ({3 * count:,} messages, best of {rounds}):")
    print(f"  bare json.loads of the message:             {r['loads']:7.2f} us")
    print(f"  json.loads + adapter (facts, books, events): {r['full']:7.2f} us")
    print(
        f"  adapter alone (without the json.loads):      {r['adapter']:7.2f} us  ({r['events_per_message']:.1f} events/message)"
    )
    print(f"  ratio adapter / json.loads:                  {r['adapter'] / r['loads']:7.2f}")
    print(
        f"  for reference, alpaca-py TradeUpdate parse:  {r['sdk']:7.2f} us  (ratio {r['sdk'] / r['loads']:.2f})"
    )
    print(f"  with the journal on (SQLite, one commit):    {r['journal']:7.2f} us")
    print(f"  goal <= 50 us per trade update (journal off): {'met' if r['adapter'] <= 50 else 'NOT met'}")


if __name__ == "__main__":
    main()
