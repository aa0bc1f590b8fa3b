"""Desk processes on one database: the duplicate-position guard holds across processes, and
a process SIGKILLed between a fill and the trade manager hearing of it is reconciled by the
next one."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from trading.broker import PaperBroker
from trading.bus import EventBus
from trading.clock import TestClock
from trading.model import Instrument, OrderRole, TransactionStatus
from trading.storage import Database, OrderHistoryRepository, TransactionRepository
from trading.trades import TradeManager

ROOT = Path(__file__).resolve().parents[2]

CHILD = """
import sys, time
from pathlib import Path
from trading.broker import PaperBroker
from trading.bus import EventBus
from trading.clock import TestClock
from trading.model import Instrument, MarketDataUpdated, OrderSide, Recommendation
from trading.storage import Database, TransactionRepository
from trading.trades import TradeManager

db_path, go, rounds, reverse = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1"
clock, bus = TestClock(), EventBus()
broker = PaperBroker(bus, clock, [Instrument(symbol="ES", tick_size=0.25, multiplier=50.0)])
db = Database(db_path, clock=clock)
manager = TradeManager(broker, bus, clock, TransactionRepository(db))
broker.on_market_data(MarketDataUpdated(ts=clock.now(), symbol="ES", price=5000.0))
print("ready", flush=True)
deadline = time.monotonic() + 30
while not go.exists() and time.monotonic() < deadline:
    time.sleep(0.001)
created = 0
# The two processes walk the strategies in opposite orders, so they collide in the middle.
for i in (reversed(range(rounds)) if reverse else range(rounds)):
    created += len(manager.process(f"strategy-{i}", [Recommendation("ES", OrderSide.BUY, 1, take_profit=5010.0)]))
print(created, flush=True)
db.close()
"""


@pytest.mark.slow  # two interpreters start: several seconds on a loaded machine
def test_trade_manager_two_processes_same_recommendations_one_transaction_each(tmp_path: Path) -> None:
    # Arrange
    db_path, go, rounds = tmp_path / "desk.db", tmp_path / "go", 200
    Database(db_path).close()  # schema in place before the race
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, str(db_path), str(go), str(rounds), str(n)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(2)
    ]
    try:
        for proc in procs:
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "ready"
        # Act
        go.touch()
        outputs = [proc.communicate(timeout=120) for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    # Assert
    assert [proc.returncode for proc in procs] == [0, 0], [err for _, err in outputs]
    created = [int(out.strip()) for out, _ in outputs]
    assert sum(created) == rounds, created
    with Database(db_path) as db:
        active = TransactionRepository(db).active()
    assert sorted(t.strategy for t in active) == sorted(f"strategy-{i}" for i in range(rounds))
    assert "database is locked" not in "".join(err for _, err in outputs)


CRASHING_CHILD = """
import json, os, signal, sys
from pathlib import Path
from trading.broker import PaperBroker
from trading.bus import EventBus
from trading.clock import TestClock
from trading.model import Instrument, MarketDataUpdated, OrderEvent, OrderFilled, OrderSide, Recommendation
from trading.storage import Database, FillRepository, OrderRepository, TransactionRepository
from trading.trades import TradeManager

db_path, state_path, kill_on = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
clock, bus = TestClock(), EventBus()
broker = PaperBroker(bus, clock, [Instrument(symbol="ES", tick_size=0.25, multiplier=50.0)])
db = Database(db_path, clock=clock)
orders, fills = OrderRepository(db), FillRepository(db)

def journal(event):
    # Rows first, as the journal commits a step before its events are heard; the process
    # dies right after the fill of the chosen role is written, before the manager hears it.
    order = broker.get_order(event.order_id)
    if order is not None:
        orders.upsert(order)
    if isinstance(event, OrderFilled):
        fills.add(event)
        if event.role.value == kill_on:
            state_path.write_text(json.dumps(broker.export_state()))
            os.kill(os.getpid(), signal.SIGKILL)

bus.subscribe(OrderEvent, journal)
manager = TradeManager(broker, bus, clock, TransactionRepository(db))
for price in (5000.0, None, 5001.0, 5010.0, 5020.0):
    if price is None:
        manager.process("ma", [Recommendation("ES", OrderSide.BUY, 2, take_profit=5010.0, stop_loss=4990.0)])
        continue
    clock.advance(1)
    broker.on_market_data(MarketDataUpdated(ts=clock.now(), symbol="ES", price=price))
print("not killed", flush=True)
"""


@pytest.mark.slow  # an interpreter starts: a second or more on a loaded machine
@pytest.mark.parametrize(
    ("kill_on", "after", "open_roles"),
    [
        ("ENTRY", TransactionStatus.OPENED, [OrderRole.TAKE_PROFIT, OrderRole.STOP_LOSS]),
        ("TAKE_PROFIT", TransactionStatus.CLOSED, []),
    ],
)
def test_trade_manager_process_killed_between_fill_and_handling_is_reconciled_on_restart(
    tmp_path: Path, kill_on: str, after: TransactionStatus, open_roles: list[OrderRole]
) -> None:
    # Arrange: the child is SIGKILLed right after the fill is written
    db_path, state_path = tmp_path / "desk.db", tmp_path / "broker.json"
    proc = subprocess.run(
        [sys.executable, "-c", CRASHING_CHILD, str(db_path), str(state_path), kill_on],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    clock, bus = TestClock(), EventBus()
    broker = PaperBroker(bus, clock, [Instrument(symbol="ES", tick_size=0.25, multiplier=50.0)])
    broker.restore_state(json.loads(state_path.read_text()))
    with Database(db_path, clock=clock) as db:
        repo = TransactionRepository(db)
        [before] = repo.active()
        manager = TradeManager(broker, bus, clock, repo)
        # Act
        result = manager.restore(OrderHistoryRepository(db))
        stored = repo.get(before.transaction_id)
    # Assert: opened at 5001; the take-profit at 5010 realizes 9 x 2 x 50 = 900
    assert [(r.transaction_id, r.after) for r in result.repairs] == [(before.transaction_id, after)]
    assert stored is not None and (stored.status, stored.entry_price) == (after, 5001.0)
    if after is TransactionStatus.CLOSED:
        assert (stored.exit_price, stored.realized_pnl) == (5010.0, 900.0)
    assert [o.role for o in broker.open_orders()] == open_roles
