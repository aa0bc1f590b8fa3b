"""End to end: a losing strategy on the paper broker (its books journaled in SQLite) is
flattened by the daily loss limit, its next order is denied, everything is in SQLite, and the
risk sweep runs in the executor's risk lane as a recorded job."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from trading.broker import PaperBroker
from trading.bus import EventBus
from trading.clock import TestClock
from trading.model import (
    Instrument,
    MarketDataUpdated,
    Order,
    OrderDenied,
    OrderSide,
    OrderStatus,
    PositionClosed,
    TradingState,
)
from trading.risk import RiskManager, load_risk_config
from trading.signals.strategy_executor import StrategyExecutor
from trading.storage import (
    AuditRepository,
    Database,
    JobRepository,
    Journal,
    LockoutRepository,
    RiskRepository,
    ViolationRepository,
)

RISK_YAML = """
reset: {time: "17:00", timezone: America/Chicago}
rules:
  daily_realized_loss: {limit: 1000, action: flatten_and_lock}
  max_contracts: {limit: 6}
  session_hours: {mode: shadow, open: "08:30", close: "15:00"}
"""


class LosingStrategy:
    """Buys 2 ES whenever flat and sells three ticks later, in a market that only falls."""

    def __init__(self, broker: PaperBroker) -> None:
        self.broker = broker
        self.held_for = 0
        self.orders: list[Order] = []

    def on_tick(self) -> None:
        position = self.broker.positions().get("ES")
        if position is None:
            self.orders.append(
                self.broker.submit(Order(symbol="ES", side=OrderSide.BUY, quantity=2, strategy="loser"))
            )
            self.held_for = 0
            return
        self.held_for += 1
        if self.held_for >= 3 and not self.broker.open_orders("ES"):
            self.orders.append(
                self.broker.submit(Order(symbol="ES", side=OrderSide.SELL, quantity=2, strategy="loser"))
            )


async def test_risk_e2e_losing_strategy_flattened_by_daily_loss_and_next_order_denied(tmp_path: Path):
    # Arrange: a real database file, the paper broker, the risk manager from a YAML file
    config_path = tmp_path / "risk.yaml"
    config_path.write_text(RISK_YAML)
    db = Database(tmp_path / "desk.db")
    clock = TestClock(datetime(2026, 1, 6, 15, 0, tzinfo=UTC))
    bus = EventBus()
    journal = Journal(db, account="e2e")
    broker = PaperBroker(
        bus,
        clock,
        [Instrument(symbol="ES", tick_size=0.25, multiplier=50.0, commission=2.0)],
        journal=journal,
    )
    assert broker.commit_books() is None
    rm = RiskManager(
        bus,
        broker,
        clock,
        load_risk_config(config_path),
        store=RiskRepository(db),
        fills=journal.reader,
        account="e2e",
        config_path=config_path,
    )
    rm.start()
    strategy = LosingStrategy(broker)
    denied: list[OrderDenied] = []
    bus.subscribe(OrderDenied, denied.append)
    closed: list[PositionClosed] = []
    bus.subscribe(PositionClosed, closed.append)
    executor = StrategyExecutor(clock=clock, job_stores={"risk": JobRepository(db)})
    try:
        async with executor:
            # Act: the market falls one point a second while the strategy trades
            price = 5000.0
            for _ in range(200):
                clock.advance(1)
                broker.on_market_data(MarketDataUpdated(ts=clock.now(), symbol="ES", price=price))
                if rm.state is TradingState.ACTIVE:
                    strategy.on_tick()
                price -= 1.0
                if rm.state is TradingState.HALTED and not broker.positions():
                    break
            task_id = await executor.submit_task("risk_sweep", rm.sweep_job, lane="risk", key="risk:e2e")
            assert task_id is not None
            result = await executor.wait_task(task_id, timeout=10)
            next_order = broker.submit(Order(symbol="ES", side=OrderSide.BUY, quantity=1, strategy="loser"))
    finally:
        rm.stop()  # writes the rule states and waits for the risk records
        journal.close()

    # Assert: flattened and halted by the daily loss limit, the next order denied
    assert rm.state is TradingState.HALTED
    assert "daily_realized_loss" in rm.state_reason
    assert rm.pnl.daily_net <= -1000
    assert rm.pnl.daily_net == sum(
        (f.realized_pnl - f.commission for f in journal.reader.fills() if f.realized_pnl is not None),
        Decimal(0),
    )  # the risk manager's counters are the journal's books
    assert broker.positions() == {}
    assert next_order.status is OrderStatus.DENIED
    assert denied[-1].rule == "trading_state" and "HALTED" in denied[-1].reason
    # everything is in SQLite: the violation with its event, the lockout, the audit trail
    violations = ViolationRepository(db).recent()
    enforced = [v for v in violations if not v["shadow"]]
    assert [v["rule"] for v in enforced] == ["daily_realized_loss"]
    assert enforced[0]["event"].startswith("PositionClosed(")
    assert [row["rule"] for row in LockoutRepository(db).all()] == ["daily_realized_loss"]
    actions = {row["action"] for row in AuditRepository(db).recent()}
    assert {"flatten", "lock"} <= actions
    # the sweep ran in the risk lane as a recorded job
    assert result.status.value == "COMPLETED"
    assert "rules evaluated" in result.summary and result.details["value_after"] == rm.pnl.equity
    job = JobRepository(db).get(task_id)
    assert job is not None and job.lane == "risk" and job.key == "risk:e2e"
    assert job.details["rules_evaluated"] == 3 and job.details["state"] == "HALTED"
    db.close()
