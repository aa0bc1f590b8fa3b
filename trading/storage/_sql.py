"""Small SQL building blocks shared by the repositories and the background writer."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, Dialect, Table, insert
from sqlalchemy.dialects import postgresql, sqlite

__all__ = ["Params", "check_limit", "compile_insert", "is_busy_error", "upsert"]

_BUSY_MARKERS = ("database is locked", "database table is locked", "database is busy", "sqlite_busy")

# Turns rows (tuples in the statement's column order) into the driver's executemany parameters.
Params = Callable[[list[tuple[Any, ...]]], Sequence[Any]]


def is_busy_error(exc: BaseException) -> bool:
    """True when ``exc`` (a DBAPI or SQLAlchemy error) means another connection holds the lock."""
    message = str(getattr(exc, "orig", exc)).lower()
    return any(marker in message for marker in _BUSY_MARKERS)


def upsert(conn: Connection, table: Table, values: dict[str, Any], keys: Sequence[str]) -> None:
    """Insert ``values`` or, when a row with the same ``keys`` exists, update it in place."""
    dialect = conn.dialect.name
    insert_fn = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert_fn(table).values(**values)
    changes = {name: stmt.excluded[name] for name in values if name not in keys}
    conn.execute(stmt.on_conflict_do_update(index_elements=list(keys), set_=changes))


def compile_insert(
    dialect: Dialect, table: Table, columns: Sequence[str], keys: Sequence[str] = ()
) -> tuple[str, Params | None]:
    """An insert of ``columns`` into ``table`` (an upsert on ``keys`` when given), compiled once
    for ``dialect``: its SQL text for ``Connection.exec_driver_sql``, and how to turn rows
    (tuples in ``columns`` order) into that text's executemany parameters (``None`` when the
    rows can be passed as they are, as with SQLite's positional ``?``)."""
    names = tuple(columns)
    if keys:
        insert_fn = postgresql.insert if dialect.name == "postgresql" else sqlite.insert
        stmt = insert_fn(table)
        changes = {name: stmt.excluded[name] for name in names if name not in keys}
        compiled = stmt.on_conflict_do_update(index_elements=list(keys), set_=changes).compile(
            dialect=dialect, column_keys=list(names)
        )
    else:
        compiled = insert(table).compile(dialect=dialect, column_keys=list(names))
    if not compiled.positional:  # named placeholders (PostgreSQL's %(name)s): one dict a row
        return compiled.string, lambda rows: [dict(zip(names, row, strict=True)) for row in rows]
    order = tuple(compiled.positiontup or ())
    if order == names:
        return compiled.string, None
    if sorted(order) != sorted(names):
        raise ValueError(f"{table.name}: compiled parameters {order} do not match the columns {names}")
    index = [names.index(name) for name in order]
    return compiled.string, lambda rows: [tuple(row[i] for i in index) for row in rows]


def check_limit(limit: int, offset: int = 0, *, maximum: int = 100_000) -> None:
    if not isinstance(limit, int) or not 0 < limit <= maximum:
        raise ValueError(f"limit must be an int in 1..{maximum}, got {limit!r}")
    if not isinstance(offset, int) or offset < 0:
        raise ValueError(f"offset must be an int >= 0, got {offset!r}")
