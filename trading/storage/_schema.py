"""Tables, indexes and the ordered list of migrations.

Every datetime column holds ISO-8601 UTC text (``2026-01-05T14:30:00.000000+00:00``) so
text order is time order; JSON columns hold ``json.dumps`` text. A migration is a
function of a Connection that moves the schema from ``version - 1`` to ``version``;
append new ones to ``MIGRATIONS`` and never edit a released one.
"""

from __future__ import annotations

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
    text,
)

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "metadata", "tables"]

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
    Index("ix_fills_order_id", "order_id"),
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


# (version, description, migrate). Versions are 1, 2, 3... in order.
MIGRATIONS: tuple[tuple[int, str, Callable[[Connection], None]], ...] = (
    (
        1,
        "initial schema: orders, fills, transactions, jobs, violations, lockouts, audit, commands, "
        "key_values, activity",
        _v1_initial,
    ),
)
SCHEMA_VERSION = MIGRATIONS[-1][0]
