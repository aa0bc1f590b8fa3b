"""A restart's reconciliation: the journal against the broker's view and its own fills, the
transactions restored, one report in the activity log, the key-value table and the snapshot."""

from __future__ import annotations

import sqlite3
from decimal import Decimal

import pytest

from trading.broker import PaperBroker
from trading.bus import EventBus
from trading.clock import TestClock
from trading.desk._broker_side import AccountSide
from trading.desk._reconcile import Reconciler
from trading.desk._reconciliation import RECONCILIATION_KEY
from trading.model import Instrument, MarketDataUpdated, Order, OrderSide, OrderType
from trading.storage import ActivityLog, Database, Journal, KeyValueRepository
from trading.trades import TradeReconciliation

from .conftest import START


def _sql(desk, statement: str, *args: object) -> None:
    with sqlite3.connect(desk.state_dir.database) as conn:
        conn.execute(statement, args)
    conn.close()


def _reconcile_rows(desk) -> list[tuple[str, str]]:
    with sqlite3.connect(desk.state_dir.database) as conn:
        rows = conn.execute(
            "SELECT level, message FROM activity WHERE source = 'reconcile' ORDER BY id"
        ).fetchall()
    conn.close()
    return rows


@pytest.fixture
async def traded(make_desk):
    """A desk that traded ten simulated minutes and stopped cleanly, with an OPENED transaction."""
    desk = make_desk()
    await desk.run_simulated(600)
    opened = [t for t in desk.trade_manager.active() if t.status.value == "OPENED"]
    assert opened, "the seeded run leaves a transaction open"
    await desk.shutdown()
    return desk, opened[0]


async def test_reconcile_clean_restart_reports_what_was_restored_and_no_discrepancy(traded, make_desk):
    # Arrange
    first, _ = traded
    account = first.broker.account()
    # Act
    desk = make_desk(clock=TestClock(first.clock.now()))
    await desk.publish()
    # Assert: the report
    report = desk.parts.reconciliation
    assert report.clean and report.discrepancies == () and report.notes == ()
    assert report.broker == "paper broker"
    assert report.cash == account.cash
    assert report.positions == len(first.broker.positions())
    assert report.working_orders == len(first.broker.open_orders())
    assert report.transactions == len(first.trade_manager.active())
    assert report.risk.startswith("risk: trading day 2026-11-24, daily net ")
    # ... in the snapshot, the key-value table and the activity log
    snap = desk.snapshot()
    assert snap.reconciliation is not None and snap.reconciliation.cash == float(account.cash)
    assert snap.reconciliation.discrepancies == ()
    assert desk.parts.kv.get(RECONCILIATION_KEY) == report.to_json()
    await desk.shutdown()
    rows = _reconcile_rows(desk)
    assert rows[-1] == ("INFO", report.summary())
    assert "restart reconciled with the paper broker: restored " in rows[-1][1]


async def test_reconcile_zombie_transaction_closed_and_changed_position_row_reported(traded, make_desk):
    # Arrange: the positions row of an open transaction's symbol says flat, its fills do not
    first, txn = traded
    _sql(first, "UPDATE positions SET quantity = 0 WHERE symbol = ?", txn.symbol)
    # Act
    desk = make_desk(clock=TestClock(first.clock.now()))
    # Assert: the transaction is closed as having no position, its orders cancelled; the row is reported
    report = desk.parts.reconciliation
    by_subject = {d.subject: d for d in report.discrepancies}
    zombie = by_subject[f"transaction {txn.transaction_id} ({txn.strategy} {txn.symbol})"]
    assert zombie.repair == "OPENED -> CLOSED" and zombie.reason == "reconciled: no position"
    row = by_subject[f"position {txn.symbol}"]
    assert row.found.startswith("positions row 0, its fills sum to ")
    assert row.repair == "none: reported for an operator"
    assert txn.transaction_id not in {t.transaction_id for t in desk.trade_manager.active()}
    assert not [o for o in desk.broker.open_orders() if o.transaction_id == txn.transaction_id]
    snap = desk.snapshot()
    assert snap.reconciliation is not None
    assert {d.subject for d in snap.reconciliation.discrepancies} == set(by_subject)
    await desk.shutdown()
    rows = _reconcile_rows(desk)
    assert ("WARNING", row.describe()) in rows
    assert any(txn.transaction_id in message and "reconciled: no position" in message for _, message in rows)
    assert rows[-1] == ("WARNING", report.summary())


async def test_reconcile_account_row_changed_outside_the_desk_reports_the_fills_count(traded, make_desk):
    first, _ = traded
    before = first.broker.account()
    _sql(first, "UPDATE account SET realized_pnl = '123456.78'")

    desk = make_desk(clock=TestClock(first.clock.now()))

    cash = [d for d in desk.parts.reconciliation.discrepancies if d.subject == "cash"]
    changed = before.starting_balance + Decimal("123456.78") - before.commissions
    assert [d.found for d in cash] == [f"account row {changed:,.2f}, the fills count {before.cash:,.2f}"]
    await desk.shutdown()


# --- a side that wins: the journal follows it ---------------------------------------------


ES = Instrument(symbol="ES", tick_size=0.25, multiplier=50.0, commission=2.0)


async def test_reconcile_winning_side_the_journal_follows_its_view(tmp_path):
    # Arrange: a broker whose books the journal lost (rows removed), standing in for a venue
    db = Database(tmp_path / "desk.db")
    journal = Journal(db, account="demo")
    clock = TestClock(START)
    broker = PaperBroker(EventBus(), clock, [ES], starting_balance=100_000, journal=journal)
    broker.commit_books()
    broker.submit(Order(symbol="ES", side=OrderSide.BUY, quantity=2, order_type=OrderType.MARKET))
    broker.on_market_data(MarketDataUpdated(ts=clock.now(), symbol="ES", price=5000.0))
    resting = broker.submit(
        Order(symbol="ES", side=OrderSide.SELL, quantity=2, order_type=OrderType.LIMIT, price=5100.0)
    )
    with sqlite3.connect(tmp_path / "desk.db") as conn:
        conn.execute("DELETE FROM positions")
        conn.execute("UPDATE orders SET status = 'CANCELLED' WHERE order_id = ?", (resting.order_id,))
    conn.close()
    activity = ActivityLog(db, clock=clock)
    activity.start()
    kv = KeyValueRepository(db)
    reconciler = Reconciler(
        journal.reader, AccountSide(broker, name="venue", wins=True), clock=clock, activity=activity, kv=kv
    )
    # Act
    report = reconciler.reconcile(TradeReconciliation)
    # Assert
    assert {(d.subject, d.found) for d in report.discrepancies} == {
        ("position ES", "journal 0, venue 2"),
        (f"working order {resting.order_id}", "working only in the venue"),
    }
    assert {(d.repair, d.reason) for d in report.discrepancies} == {
        ("the journal follows the venue", "the venue's view is final")
    }
    view = journal.load()
    assert [(p.symbol, p.quantity) for p in view.positions] == [("ES", 2.0)]
    assert [o.order_id for o in view.working_orders] == [resting.order_id]
    assert report.positions == 1 and report.working_orders == 1
    assert report.cash == broker.account().cash == Decimal("99996")  # 2 contracts x 2.00
    assert kv.get(RECONCILIATION_KEY) == report.to_json()
    activity.close()
    journal.close()
    db.close()
