"""``Journal``: the broker's books in SQLite, each step committed before it is published.

The journal implements the broker's ``BrokerJournal`` seam. A step (``JournalStep``: the
orders a broker step changed, its fills, the positions they moved, the account after it)
is one transaction: orders upserted, fills inserted (a fill id already there is skipped,
so writing a step again changes nothing), positions and the account row upserted.
``commit`` returns when that transaction is committed: with WAL and
``synchronous=NORMAL`` it survives a crash of the process (a power loss may cost the last
transactions; see docs/OPERATIONS.md).

It has a connection of its own, used only from the thread that drives the broker (the
event loop), and runs statements compiled once by SQLAlchemy for the database's dialect;
each transaction passes the database's ``WriteGate`` as its urgent writer (no background
batch starts while a step waits, and a step never waits in SQLite's busy handler for one);
on an SQLite file it runs them on that connection's driver (``sqlite3``) directly, which
halves the cost of a step (see bench/bench_broker.py).

When a write fails (disk full, I/O error, the database locked past its busy timeout),
nothing is lost: the step's rows stay in memory, in order, behind any earlier ones, and
the next ``commit`` or ``flush`` writes them all first, in one transaction. ``commit`` and
``flush`` then return the reason instead of None. One ERROR line marks the start of an
outage and one WARNING its end.
"""

from __future__ import annotations

import json
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Dialect, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from trading.model import AccountRecord, FillRecord, JournalStep, JournalView, Order, PositionRecord
from trading.storage._checkpointer import WalCheckpointer
from trading.storage._codec import to_iso
from trading.storage._schema import account as account_table
from trading.storage._schema import fills, orders, positions
from trading.storage.database import Database
from trading.storage.journal_reader import JournalReader

__all__ = ["Journal", "JournalStatistics"]

logger = logging.getLogger(__name__)

Row = tuple[Any, ...]
_CHECKPOINT_EVERY = 100  # commits (a step writes ~2-12 pages: the log stays a few MB)
_ORDER_COLUMNS = tuple(c.name for c in orders.columns)
# What a broker changes on an order once it is submitted. Only these are updated, so the
# indexes on the others (created_at, transaction_id) are not rewritten by every change.
_ORDER_CHANGES = (
    "quantity",
    "price",
    "stop_price",
    "status",
    "filled_quantity",
    "avg_fill_price",
    "updated_at",
    "reason",
    "triggered",
)
_FILL_COLUMNS = tuple(c.name for c in fills.columns if c.name != "id")
_POSITION_COLUMNS = tuple(c.name for c in positions.columns)
_ACCOUNT_COLUMNS = tuple(c.name for c in account_table.columns)


@dataclass(frozen=True, slots=True)
class JournalStatistics:
    steps: int  # steps given to ``commit``
    transactions: int  # transactions committed (one per step, or one for a held backlog)
    pending: int  # steps held in memory, not written yet
    failures: int  # writes that failed (each keeps its steps held)
    outages: int  # times the journal went from writing to holding
    last_error: str | None
    checkpoints: int  # WAL checkpoints its thread has run (an SQLite file only)


@dataclass(frozen=True, slots=True)
class _Rows:
    """One step as rows, made when the step is committed (a held step keeps them)."""

    orders: tuple[Row, ...]
    fills: tuple[Row, ...]
    positions: tuple[Row, ...]
    account: Row | None


class _Statement:
    """An insert (or upsert) compiled once for a dialect, run with executemany."""

    def __init__(self, dialect: Dialect, stmt: Any, columns: Sequence[str]) -> None:
        compiled = stmt.compile(dialect=dialect, column_keys=list(columns))
        self.sql: str = compiled.string
        names = tuple(columns)
        self._params: Callable[[list[Row]], Sequence[Any]]
        if not compiled.positional:  # named placeholders (PostgreSQL): one dict a row
            self._params = lambda rows: [dict(zip(names, row, strict=True)) for row in rows]
            return
        order = tuple(compiled.positiontup or ())
        if order == names:
            self._params = list
            return
        index = [names.index(name) for name in order]
        self._params = lambda rows: [tuple(row[i] for i in index) for row in rows]

    def run(self, conn: Connection, rows: list[Row]) -> None:
        if rows:
            conn.exec_driver_sql(self.sql, self._params(rows))

    def run_driver(self, driver: Any, rows: list[Row]) -> None:
        if rows:
            driver.executemany(self.sql, self._params(rows))


def _upsert(
    dialect: Dialect, table: Table, keys: Sequence[str], *, update: Sequence[str] | None = None
) -> Any:
    """Insert, or on a conflict on ``keys`` update ``update`` (default: every other column;
    empty: leave the row as it is)."""
    insert_fn = postgresql.insert if dialect.name == "postgresql" else sqlite.insert
    stmt = insert_fn(table)
    names = [c.name for c in table.columns if c.name not in keys] if update is None else update
    if not names:
        return stmt.on_conflict_do_nothing(index_elements=list(keys))
    return stmt.on_conflict_do_update(index_elements=list(keys), set_={n: stmt.excluded[n] for n in names})


class Journal:
    """The books of account ``account`` in ``db``, written one broker step at a time.

    ``connection`` is the journal's own connection (default: a new one from ``db``'s
    engine, held until ``close``); a caller may pass one it has set up itself.
    """

    def __init__(self, db: Database, *, account: str = "paper", connection: Connection | None = None) -> None:
        if not account:
            raise ValueError("the journal needs an account name")
        self._db = db
        self._account = account
        self._reader = JournalReader(db, account=account)
        conn = connection if connection is not None else db.engine.connect()
        if db.is_sqlite:
            conn = conn.execution_options(sqlite_begin="IMMEDIATE")  # take the write lock up front
        self._conn = conn
        # On an SQLite file the driver connection is the journal's alone (a memory database
        # shares its one connection with everybody, so it goes through SQLAlchemy's).
        self._driver: Any = conn.connection.driver_connection if db.path is not None else None
        self._checkpointer: WalCheckpointer | None = None
        if self._driver is not None:
            # Checkpoints (the WAL copied into the database file, with an fsync) happen on a
            # thread of their own, never inside a step's commit.
            self._driver.execute("PRAGMA wal_autocheckpoint = 0")
            self._checkpointer = WalCheckpointer(db.engine, every=_CHECKPOINT_EVERY, name=account)
        self._driver_error: type[Exception] = conn.dialect.loaded_dbapi.Error
        dialect = conn.dialect
        self._orders = _Statement(
            dialect, _upsert(dialect, orders, ["order_id"], update=_ORDER_CHANGES), _ORDER_COLUMNS
        )
        self._fills = _Statement(dialect, _upsert(dialect, fills, ["fill_id"], update=()), _FILL_COLUMNS)
        self._positions = _Statement(dialect, _upsert(dialect, positions, ["symbol"]), _POSITION_COLUMNS)
        self._account_row = _Statement(dialect, _upsert(dialect, account_table, ["name"]), _ACCOUNT_COLUMNS)
        self._held: deque[_Rows] = deque()
        self._steps = self._transactions = self._failures = self._outages = 0
        self._last_error: str | None = None
        self._outage_started: float | None = None
        self._closed = False

    # --- writing (the BrokerJournal seam) ------------------------------------------

    def commit(self, step: JournalStep) -> str | None:
        """Write the held steps, then ``step``; None when all are committed, else why not
        (they are all held, in order)."""
        if self._closed:
            raise RuntimeError(f"{self!r} is closed")
        self._held.append(self._rows(step))
        self._steps += 1
        return self.flush()

    def flush(self) -> str | None:
        """Write the held steps in one transaction; None when none is left, else why not."""
        held = self._held
        if not held:
            return None
        try:
            self._write(held)
        except (SQLAlchemyError, self._driver_error) as exc:
            return self._failed(exc)
        count = len(held)
        held.clear()
        self._transactions += 1
        if self._checkpointer is not None:
            self._checkpointer.committed()
        if self._outage_started is not None:
            logger.warning(
                "journal writes again: %d held steps written after %.1fs",
                count,
                time.monotonic() - self._outage_started,
            )
            self._outage_started = None
            self._last_error = None
        return None

    @property
    def pending(self) -> int:
        return len(self._held)

    def _write(self, held: deque[_Rows]) -> None:
        with self._db.gate.urgent():
            self._write_now(held)

    def _write_now(self, held: deque[_Rows]) -> None:
        conn = self._conn
        if len(held) == 1:
            rows = held[0]
            order_rows, fill_rows, position_rows = list(rows.orders), list(rows.fills), list(rows.positions)
            account_rows = [] if rows.account is None else [rows.account]
        else:
            order_rows, fill_rows, position_rows, account_rows = [], [], [], []
            for rows in held:
                order_rows += rows.orders
                fill_rows += rows.fills
                position_rows += rows.positions
                if rows.account is not None:
                    account_rows.append(rows.account)
        account_rows = account_rows[-1:]  # an upsert: the last one is the account after the steps
        driver = self._driver
        if driver is None:
            if conn.in_transaction():  # left open by a failure the driver could not roll back
                conn.rollback()
            with conn.begin():
                self._orders.run(conn, order_rows)
                self._fills.run(conn, fill_rows)
                self._positions.run(conn, position_rows)
                self._account_row.run(conn, account_rows)
            return
        if driver.in_transaction:  # left open by a failure the driver could not roll back
            driver.execute("ROLLBACK")
        driver.execute("BEGIN IMMEDIATE")
        try:
            self._orders.run_driver(driver, order_rows)
            self._fills.run_driver(driver, fill_rows)
            self._positions.run_driver(driver, position_rows)
            self._account_row.run_driver(driver, account_rows)
            driver.execute("COMMIT")
        except BaseException:
            if driver.in_transaction:
                driver.execute("ROLLBACK")
            raise

    def _failed(self, exc: Exception) -> str:
        self._failures += 1
        reason = f"journal write failed: {getattr(exc, 'orig', None) or exc}"
        self._last_error = reason
        if self._outage_started is None:
            self._outage_started = time.monotonic()
            self._outages += 1
            logger.error(
                "%s; %d step(s) held in memory and retried before the next step (%s)",
                reason,
                len(self._held),
                self._db,
            )
        return reason

    # --- rows ----------------------------------------------------------------------

    def _rows(self, step: JournalStep) -> _Rows:
        return _Rows(
            orders=tuple(_order_row(o) for o in step.orders),
            fills=tuple(_fill_row(f) for f in step.fills),
            positions=tuple(_position_row(p) for p in step.positions),
            account=None if step.account is None else _account_row(self._account, step.account),
        )

    # --- reading -------------------------------------------------------------------

    def load(self) -> JournalView:
        """The books as committed: the account row, the positions, the working orders."""
        return self._reader.load()

    @property
    def reader(self) -> JournalReader:
        return self._reader

    # --- lifecycle -----------------------------------------------------------------

    def close(self) -> None:
        """Write what is held (once more), then give the connection back. Idempotent."""
        if self._closed:
            return
        self._closed = True
        try:
            if self.flush() is not None:
                logger.error("journal closed with %d step(s) it could not write", len(self._held))
        finally:
            if self._checkpointer is not None:
                self._checkpointer.close()
            self._conn.close()

    def statistics(self) -> JournalStatistics:
        return JournalStatistics(
            steps=self._steps,
            transactions=self._transactions,
            pending=len(self._held),
            failures=self._failures,
            outages=self._outages,
            last_error=self._last_error,
            checkpoints=0 if self._checkpointer is None else self._checkpointer.checkpoints,
        )

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"pending={len(self._held)}"
        return f"Journal({self._account!r}, {self._db!r}, steps={self._steps}, {state})"


def _order_row(order: Order) -> Row:
    return (
        order.order_id,
        order.symbol,
        order.side.value,
        float(order.quantity),
        order.order_type.value,
        order.price,
        order.stop_price,
        order.time_in_force.value,
        order.strategy,
        order.role.value,
        bool(order.reduce_only),
        order.oco_group,
        order.parent_id,
        order.transaction_id,
        order.status.value,
        float(order.filled_quantity),
        order.avg_fill_price,
        to_iso(order.created_at, field="order.created_at"),
        to_iso(order.updated_at, field="order.updated_at"),
        order.reason,
        bool(order.triggered),
    )


def _fill_row(fill: FillRecord) -> Row:
    return (
        fill.fill_id,
        fill.order_id,
        fill.symbol,
        fill.side.value,
        float(fill.quantity),
        float(fill.price),
        float(fill.commission),
        fill.role.value,
        fill.strategy,
        fill.transaction_id,
        to_iso(fill.ts, field="fill.ts"),
        None if fill.realized_pnl is None else str(fill.realized_pnl),
        str(fill.commission),
        fill.position_quantity,
    )


def _position_row(pos: PositionRecord) -> Row:
    return (
        pos.symbol,
        float(pos.quantity),
        repr(float(pos.avg_price)),
        str(pos.cost_basis),
        str(pos.realized_pnl),
        str(pos.commissions),
        pos.last_price,
        to_iso(pos.opened_at, field="position.opened_at"),
        to_iso(pos.updated_at, field="position.updated_at"),
        json.dumps(list(pos.strategies)),
    )


def _account_row(name: str, acct: AccountRecord) -> Row:
    return (
        name,
        str(acct.starting_balance),
        str(acct.realized_pnl),
        str(acct.commissions),
        to_iso(acct.updated_at, field="account.updated_at"),
        acct.last_fill_id,
    )
