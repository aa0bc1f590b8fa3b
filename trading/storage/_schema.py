"""Tables, indexes and the ordered list of migrations.

Every datetime column holds ISO-8601 UTC text (``2026-01-05T14:30:00.000000+00:00``) so
text order is time order; JSON columns hold ``json.dumps`` text. A migration is a
function of a Connection that moves the schema from ``version - 1`` to ``version``;
append new ones to ``MIGRATIONS`` and never edit a released one.

The tables below are the current shape. Migration 1 creates them as defined here, so a
new file is current at once; each later migration brings an older file to the same shape
and skips what is already there (a column, an index, a table), so it is a no-op on a new
file. Money that decides is stored as decimal text (``Decimal`` exact, ``str(amount)``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Float,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    inspect,
    text,
)
from sqlalchemy.schema import CreateColumn

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "metadata", "tables"]

logger = logging.getLogger(__name__)

metadata = MetaData()

schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("applied_at", Text, nullable=False),
)

orders = Table(
    "orders",
    metadata,
    Column("order_id", Text, primary_key=True),
    Column("symbol", Text, nullable=False),
    Column("side", Text, nullable=False),
    Column("quantity", Float, nullable=False),
    Column("order_type", Text, nullable=False),
    Column("price", Float),
    Column("stop_price", Float),
    Column("time_in_force", Text, nullable=False),
    Column("strategy", Text, nullable=False),
    Column("role", Text, nullable=False),
    Column("reduce_only", Boolean, nullable=False),
    Column("oco_group", Text),
    Column("parent_id", Text),
    Column("transaction_id", Text),
    Column("status", Text, nullable=False),
    Column("filled_quantity", Float, nullable=False),
    Column("avg_fill_price", Float),
    Column("created_at", Text),
    Column("updated_at", Text),
    Column("reason", Text, nullable=False),
    Column("triggered", Boolean, nullable=False, server_default=text("0")),  # v2
    Index("ix_orders_created_at", "created_at"),
    Index("ix_orders_transaction_id", "transaction_id"),
)

fills = Table(
    "fills",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("fill_id", Text, nullable=False),
    Column("order_id", Text, nullable=False),
    Column("symbol", Text, nullable=False),
    Column("side", Text, nullable=False),
    Column("quantity", Float, nullable=False),
    Column("price", Float, nullable=False),
    Column("commission", Float, nullable=False),
    Column("role", Text, nullable=False),
    Column("strategy", Text, nullable=False),
    Column("transaction_id", Text),
    Column("ts", Text, nullable=False),
    # v2: exact money booked by the fill, and the symbol's net position right after it
    Column("realized_pnl", Text),
    Column("commission_exact", Text),
    Column("position_quantity", Float),
    Index("ix_fills_order_id", "order_id"),
    Index("ux_fills_fill_id", "fill_id", unique=True),  # v2
    Index("ix_fills_ts", "ts"),  # v2
)

# --- v2: the journal's books (one account per database) ----------------------------
# Keyed tables without a rowid: an upsert then writes one b-tree page, not two.

positions = Table(
    "positions",
    metadata,
    Column("symbol", Text, primary_key=True),
    Column("quantity", Float, nullable=False),
    Column("avg_price", Text, nullable=False),
    Column("cost_basis", Text, nullable=False),
    Column("realized_pnl", Text, nullable=False),
    Column("commissions", Text, nullable=False),
    Column("last_price", Float),
    Column("opened_at", Text),
    Column("updated_at", Text),
    Column("strategies", Text, nullable=False),
    sqlite_with_rowid=False,
)

account = Table(
    "account",
    metadata,
    Column("name", Text, primary_key=True),
    Column("starting_balance", Text, nullable=False),
    Column("realized_pnl", Text, nullable=False),
    Column("commissions", Text, nullable=False),
    Column("updated_at", Text),
    Column("last_fill_id", Text),
    sqlite_with_rowid=False,
)

rule_state = Table(
    "rule_state",
    metadata,
    Column("rule", Text, primary_key=True),
    Column("trading_day", Text),
    Column("state", Text, nullable=False),
    Column("updated_at", Text, nullable=False),
    sqlite_with_rowid=False,
)

_ACTIVE = "status IN ('WAITING', 'OPENED')"
transactions = Table(
    "transactions",
    metadata,
    Column("transaction_id", Text, primary_key=True),
    Column("strategy", Text, nullable=False),
    Column("symbol", Text, nullable=False),
    Column("side", Text, nullable=False),
    Column("quantity", Float, nullable=False),
    Column("status", Text, nullable=False),
    Column("entry_order_id", Text),
    Column("entry_price", Float),
    Column("exit_price", Float),
    Column("take_profit", Float),
    Column("stop_loss", Float),
    Column("tp_order_id", Text),
    Column("sl_order_id", Text),
    Column("realized_pnl", Float, nullable=False),
    Column("commissions", Float, nullable=False),
    Column("created_at", Text),
    Column("opened_at", Text),
    Column("closed_at", Text),
    Column("use_case", Text, nullable=False),
    Column("reason", Text, nullable=False),
    # The duplicate-position guard: one active transaction per (strategy, symbol),
    # enforced by the database so it holds across threads and processes.
    Index(
        "ux_transactions_active",
        "strategy",
        "symbol",
        unique=True,
        sqlite_where=text(_ACTIVE),
        postgresql_where=text(_ACTIVE),
    ),
    Index("ix_transactions_status", "status"),
    Index("ix_transactions_created_at", "created_at"),
)

jobs = Table(
    "jobs",
    metadata,
    Column("task_id", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("lane", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("key", Text),
    Column("priority", Integer, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("started_at", Text),
    Column("finished_at", Text),
    Column("duration_ms", Float),
    Column("attempts", Integer, nullable=False),
    Column("result_summary", Text, nullable=False),
    Column("error_class", Text, nullable=False),
    Column("error_message", Text, nullable=False),
    Column("details", Text, nullable=False),
    Index("ix_jobs_lane_status", "lane", "status"),
    Index("ix_jobs_created_at", "created_at"),
)

violations = Table(
    "violations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ts", Text, nullable=False),
    Column("rule", Text, nullable=False),
    Column("message", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("severity", Text, nullable=False),
    Column("shadow", Boolean, nullable=False),
    Column("symbol", Text),
    Column("values", Text, nullable=False),
    Column("event", Text, nullable=False),
)

lockouts = Table(
    "lockouts",
    metadata,
    Column("scope", Text, primary_key=True),
    Column("rule", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("started_at", Text, nullable=False),
    Column("until", Text),
)

audit = Table(
    "audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ts", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("rule", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("result", Text, nullable=False),
    Column("symbol", Text),
)

commands = Table(
    "commands",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", Text, nullable=False),
    Column("args", Text, nullable=False),
    Column("requested_by", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("result", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("claimed_at", Text),
    Column("finished_at", Text),
    # v3: who sent it, beyond the name: the role the dashboard gave them and their address
    Column("requester_role", Text),
    Column("requester_address", Text),
    Index("ix_commands_status", "status"),
)

key_values = Table(
    "key_values",
    metadata,
    Column("key", Text, primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_at", Text, nullable=False),
)

# No secondary index: the activity log is write-heavy and is read newest first by id.
activity = Table(
    "activity",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ts", Text, nullable=False),
    Column("level", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("message", Text, nullable=False),
    Column("details", Text),
)

tables = metadata.tables


def _v1_initial(conn: Connection) -> None:
    metadata.create_all(conn, tables=[t for name, t in tables.items() if name != "schema_version"])


def _add_missing_columns(conn: Connection, *tables_to_check: Table) -> None:
    """``ALTER TABLE ... ADD COLUMN`` for every column of these tables the file does not have yet."""
    existing = inspect(conn)
    for table in tables_to_check:
        have = {c["name"] for c in existing.get_columns(table.name)}
        for column in table.columns:
            if column.name not in have:
                spec = CreateColumn(column).compile(dialect=conn.dialect)
                conn.exec_driver_sql(f"ALTER TABLE {table.name} ADD COLUMN {spec}")


def _v2_journal(conn: Connection) -> None:
    _add_missing_columns(conn, orders, fills)
    _unique_fill_ids(conn)
    for index in fills.indexes:
        index.create(conn, checkfirst=True)
    metadata.create_all(conn, tables=[positions, account, rule_state])


def _unique_fill_ids(conn: Connection) -> None:
    """Before ``fill_id`` becomes unique: a repeated id (possible in a version-1 file, whose
    ids were unique per process start only) gets ``#<row id>`` appended, in every row but its first."""
    renamed = conn.execute(
        text(
            "UPDATE fills SET fill_id = fill_id || '#' || id WHERE id NOT IN "
            "(SELECT MIN(id) FROM fills GROUP BY fill_id)"
        )
    ).rowcount
    if renamed:
        logger.warning("fills: %d rows had a repeated fill_id; each now ends with '#<row id>'", renamed)


def _v3_command_requesters(conn: Connection) -> None:
    _add_missing_columns(conn, commands)


# (version, description, migrate). Versions are 1, 2, 3... in order.
MIGRATIONS: tuple[tuple[int, str, Callable[[Connection], None]], ...] = (
    (
        1,
        "initial schema: orders, fills, transactions, jobs, violations, lockouts, audit, commands, "
        "key_values, activity",
        _v1_initial,
    ),
    (
        2,
        "the journal: orders.triggered; fills with exact money, unique fill_id; positions, account, "
        "rule_state",
        _v2_journal,
    ),
    (3, "commands.requester_role and commands.requester_address", _v3_command_requesters),
)
SCHEMA_VERSION = MIGRATIONS[-1][0]
