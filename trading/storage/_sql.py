"""Small SQL building blocks shared by the repositories."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite

__all__ = ["check_limit", "upsert"]


def upsert(conn: Connection, table: Table, values: dict[str, Any], keys: Sequence[str]) -> None:
    """Insert ``values`` or, when a row with the same ``keys`` exists, update it in place."""
    dialect = conn.dialect.name
    insert_fn = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert_fn(table).values(**values)
    changes = {name: stmt.excluded[name] for name in values if name not in keys}
    conn.execute(stmt.on_conflict_do_update(index_elements=list(keys), set_=changes))


def upsert_many(conn: Connection, table: Table, rows: Sequence[dict[str, Any]], keys: Sequence[str]) -> None:
    """``upsert`` for many rows with the same columns: one compiled statement, executemany."""
    if not rows:
        return
    dialect = conn.dialect.name
    insert_fn = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert_fn(table)
    changes = {name: stmt.excluded[name] for name in rows[0] if name not in keys}
    conn.execute(stmt.on_conflict_do_update(index_elements=list(keys), set_=changes), list(rows))


def check_limit(limit: int, offset: int = 0, *, maximum: int = 100_000) -> None:
    if not isinstance(limit, int) or not 0 < limit <= maximum:
        raise ValueError(f"limit must be an int in 1..{maximum}, got {limit!r}")
    if not isinstance(offset, int) or offset < 0:
        raise ValueError(f"offset must be an int >= 0, got {offset!r}")
