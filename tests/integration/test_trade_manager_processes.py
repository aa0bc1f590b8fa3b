"""Two desk processes, one database: the duplicate-position guard holds across processes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from trading.storage import Database, TransactionRepository

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
