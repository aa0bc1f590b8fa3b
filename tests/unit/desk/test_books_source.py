"""The journal is the books' only source: a restart never takes them from the published snapshot
(state.pkl) or a key-value blob, and the snapshot it publishes agrees with the journal's rows."""

from __future__ import annotations

import dataclasses
import sqlite3
from decimal import Decimal

from trading.clock import TestClock
from trading.desk._publisher import ACCOUNT_KEY
from trading.memory import StateManager
from trading.snapshot import SNAPSHOT_KEY, PositionView
from trading.storage import Database, KeyValueRepository


def _journal(desk) -> tuple[Decimal, dict[str, float]]:
    """Cash and open positions from the rows, with our own SQL."""
    with sqlite3.connect(desk.state_dir.database) as conn:
        start, realized, commissions = conn.execute(
            "SELECT starting_balance, realized_pnl, commissions FROM account"
        ).fetchone()
        positions = dict(
            conn.execute("SELECT symbol, quantity FROM positions WHERE quantity != 0").fetchall()
        )
    conn.close()
    return Decimal(start) + Decimal(realized) - Decimal(commissions), positions


async def test_books_source_forged_snapshot_and_account_blob_are_ignored_after_restart(make_desk):
    # Arrange: a desk that traded, then a state file and an account blob that say something else
    first = make_desk()
    await first.run_simulated(600)
    await first.shutdown()
    cash, positions = _journal(first)
    assert positions, "the seeded run leaves a position open"
    state = StateManager(first.state_dir.state_file)
    snap = state.get(SNAPSHOT_KEY)
    forged = dataclasses.replace(
        snap,
        account=dataclasses.replace(snap.account, cash=1.0, realized_pnl=-99_999.0),
        positions=(
            PositionView(
                symbol="NQ", quantity=-7, avg_price=1.0, last_price=1.0, unrealized_pnl=0.0, realized_pnl=0.0
            ),
        ),
    )
    state.set(SNAPSHOT_KEY, forged)
    state.save()
    state.close()
    db = Database(first.state_dir.database)
    blob = first.broker.export_state()
    blob["realized_pnl"] = "-99999"
    KeyValueRepository(db).put(ACCOUNT_KEY, blob)
    db.close()
    # Act
    desk = make_desk(clock=TestClock(first.clock.now()))
    published = await desk.publish()
    # Assert: the books and the snapshot come from the journal
    assert desk.broker.account().cash == cash
    assert published.account.cash == float(cash)
    assert {p.symbol: p.quantity for p in published.positions} == positions
    assert desk.parts.reconciliation.clean
    await desk.shutdown()


async def test_books_source_snapshot_after_each_restart_agrees_with_the_journal(make_desk):
    # Arrange / Act: three runs, each restarted from the last one's state directory
    desk = make_desk()
    for _ in range(3):
        await desk.run_simulated(200)
        desk.parts.close()  # a stop without the final publish: the state file lags the journal
        desk = make_desk(clock=TestClock(desk.clock.now()))
        published = await desk.publish()
        # Assert
        cash, positions = _journal(desk)
        assert published.account.cash == float(cash)
        assert {p.symbol: p.quantity for p in published.positions} == positions
        assert published.reconciliation is not None
        assert published.reconciliation.cash == float(cash)
    await desk.shutdown()
