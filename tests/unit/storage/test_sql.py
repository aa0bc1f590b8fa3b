"""compile_insert: a write statement compiled once per dialect, with its parameter shape."""

from __future__ import annotations

import pytest
from sqlalchemy.dialects import postgresql, sqlite

from trading.storage._schema import activity, jobs
from trading.storage._sql import compile_insert

JOB_COLUMNS = tuple(column.name for column in jobs.columns)


def test_compile_insert_sqlite_takes_rows_as_they_are() -> None:
    sql, params = compile_insert(sqlite.dialect(), activity, ("ts", "level", "source", "message", "details"))
    assert sql == "INSERT INTO activity (ts, level, source, message, details) VALUES (?, ?, ?, ?, ?)"
    assert params is None


def test_compile_insert_sqlite_columns_out_of_table_order_are_reordered() -> None:
    sql, params = compile_insert(sqlite.dialect(), activity, ("message", "ts", "level", "source", "details"))
    assert sql.startswith("INSERT INTO activity (ts, level, source, message, details)")
    assert params is not None
    assert params([("m", "t", "INFO", "s", None)]) == [("t", "INFO", "s", "m", None)]


def test_compile_insert_postgresql_upsert_uses_named_parameters() -> None:
    sql, params = compile_insert(postgresql.dialect(), jobs, JOB_COLUMNS, keys=("task_id",))
    assert "ON CONFLICT (task_id) DO UPDATE SET name = excluded.name" in sql
    assert "%(task_id)s" in sql
    assert params is not None
    row = tuple(range(len(JOB_COLUMNS)))
    assert params([row]) == [dict(zip(JOB_COLUMNS, row, strict=True))]


def test_compile_insert_unknown_column_is_refused() -> None:
    with pytest.raises(ValueError, match=r"do not match the columns \(.ts., .nope.\)"):
        compile_insert(sqlite.dialect(), activity, ("ts", "nope"))
