"""The desk's wiring of the journal: the books come from it, the orders and fills go to it."""

from __future__ import annotations

import logging
import sqlite3
from decimal import Decimal

from trading.clock import TestClock
from trading.desk._publisher import ACCOUNT_KEY, LAST_PRICES_KEY
from trading.storage import Database, JournalReader, KeyValueRepository

from .conftest import START


def _kv(desk) -> dict[str, object]:
    db = Database(desk.state_dir.database)
    try:
        kv = KeyValueRepository(db)
        return {key: kv.get(key) for key in (ACCOUNT_KEY, LAST_PRICES_KEY)}
    finally:
        db.close()


async def test_builder_desk_run_journals_every_order_and_fill_and_no_account_blob(make_desk):
    # Arrange / Act
    desk = make_desk()
    await desk.run_simulated(600)
    stats = desk.broker.statistics()
    cash = desk.broker.account().cash
    await desk.shutdown()
    # Assert: the journal holds every fill and the account; the kv holds prices, not books
    db = Database(desk.state_dir.database)
    reader = JournalReader(db, account=desk.config.account.name)
    fills = reader.fills()
    account = reader.account()
    with sqlite3.connect(desk.state_dir.database) as raw:
        (orders,) = raw.execute("SELECT COUNT(*) FROM orders").fetchone()
    raw.close()
    db.close()
    assert stats.fills > 0 and len(fills) == stats.fills
    assert orders == stats.submitted
    assert account is not None and account.cash == cash
    assert account.cash == account.starting_balance + sum(f.realized_pnl for f in fills) - sum(
        (f.commission for f in fills), Decimal(0)
    )
    saved = _kv(desk)
    assert saved[ACCOUNT_KEY] is None
    assert set(saved[LAST_PRICES_KEY]) == {"ES", "AAPL", "EURUSD", "NQ"}


async def test_builder_version_1_account_blob_is_imported_once_then_the_journal_wins(make_desk, caplog):
    # Arrange: a version-1 database: the account blob in the key-value table, no account row
    first = make_desk()
    await first.run_simulated(300)
    blob = first.broker.export_state()
    await first.shutdown()
    db = Database(first.state_dir.database)
    with sqlite3.connect(first.state_dir.database) as raw:
        raw.execute("DELETE FROM account")
        raw.execute("DELETE FROM positions")
    raw.close()
    KeyValueRepository(db).put(ACCOUNT_KEY, blob)
    db.close()
    caplog.set_level(logging.WARNING, logger="trading.desk._builder")
    # Act: the first start imports it
    imported = make_desk(clock=TestClock(first.clock.now()))
    # Assert
    assert imported.broker.account() == first.broker.account()
    assert [r.getMessage() for r in caplog.records if "importing the version-1" in r.getMessage()]
    await imported.shutdown()
    # Act: a later start reads the journal, not the blob (which now says something else)
    blob["realized_pnl"] = "123456.78"
    db = Database(first.state_dir.database)
    KeyValueRepository(db).put(ACCOUNT_KEY, blob)
    db.close()
    caplog.clear()
    again = make_desk(clock=TestClock(first.clock.now()))
    # Assert
    assert again.broker.account().cash == first.broker.account().cash
    assert not [r for r in caplog.records if "importing the version-1" in r.getMessage()]
    await again.shutdown()


async def test_builder_fresh_database_starts_the_books_at_the_configured_balance(make_desk):
    desk = make_desk(clock=TestClock(START))
    db = Database(desk.state_dir.database)
    account = JournalReader(db, account=desk.config.account.name).account()
    db.close()
    assert account is not None and account.cash == Decimal("100000.0")
    assert desk.parts.journal.pending == 0
    await desk.shutdown()
