"""Rows written around the repositories (by hand, by another program) or damaged: each is named by
its place and handled, never a traceback. History rows are skipped with a warning; a lockout or a
saved state document refuses the start (skipping it would quietly weaken the risk limits)."""

from __future__ import annotations

import logging
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from trading.errors import StateError
from trading.storage import (
    AuditRepository,
    CommandRepository,
    KeyValueRepository,
    LockoutRepository,
    ViolationRepository,
)

T0 = datetime(2026, 1, 6, 15, 0, tzinfo=UTC)


def _sql(path: Path, statement: str, *args: object) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute(statement, args)


def _violation(repo: ViolationRepository, rule: str) -> None:
    repo.add(
        ts=T0, rule=rule, message="m", action="alert", severity="WARNING", shadow=False, symbol=None, values={}, event="e"
    )


@pytest.mark.parametrize(
    ("column", "value", "why"),
    [
        ("ts", "yesterday", "column ts: 'yesterday' is not an ISO 8601 time"),
        ("values", "{not json", "column values: not valid JSON"),
        ("values", "[1, 2]", "column values: a JSON object expected, got list"),
        ("severity", "LOUD", "column severity: 'LOUD' is not one of"),
    ],
)
def test_violation_repository_bad_row_skipped_with_warning_naming_it(db, db_path, caplog, column, value, why):
    repo = ViolationRepository(db)
    _violation(repo, "good")
    _violation(repo, "bad")
    _sql(db_path, f'UPDATE violations SET "{column}" = ? WHERE rule = \'bad\'', value)

    with caplog.at_level(logging.WARNING, logger="trading.storage.risk"):
        rows = repo.recent()

    assert [r["rule"] for r in rows] == ["good"]
    [record] = caplog.records
    assert record.getMessage().startswith(f"{db_path.resolve()}: table violations, id 2: {why}")
    assert record.getMessage().endswith(": row skipped")


@pytest.mark.parametrize(
    ("column", "value", "why"),
    [
        ("started_at", "not-a-date", "column started_at: 'not-a-date' is not an ISO 8601 time"),
        ("until", "2026-13-01T00:00:00", "column until: '2026-13-01T00:00:00' is not an ISO 8601 time"),
        ("started_at", "", "column started_at: '' is not an ISO 8601 time"),
    ],
)
def test_lockout_repository_bad_row_refuses_naming_it(db, db_path, column, value, why):
    repo = LockoutRepository(db)
    repo.save(scope="account", rule="daily_realized_loss", reason="loss", started_at=T0, until=None)
    _sql(db_path, f"UPDATE lockouts SET {column} = ?", value)

    with pytest.raises(StateError) as info:
        repo.all()

    assert str(info.value) == (
        f"{db_path.resolve()}: table lockouts, scope 'account': {why}: the lockout cannot be restored; "
        "fix the row, or delete it to lift the lockout"
    )


def test_lockout_repository_far_future_until_kept(db, db_path):
    repo = LockoutRepository(db)
    repo.save(scope="ES", rule="r", reason="x", started_at=T0, until=None)
    _sql(db_path, "UPDATE lockouts SET until = '9999-12-31T23:59:59+00:00'")

    [row] = repo.all()

    assert row["until"].year == 9999  # locked (until a reset or an operator's unlock), not dropped


@pytest.mark.parametrize("value", ["{garbage", "[1, 2]", "42"])
def test_key_value_repository_bad_document_refuses_naming_its_key(db, db_path, value):
    repo = KeyValueRepository(db)
    repo.put("risk_state", {"version": 1})
    _sql(db_path, "UPDATE key_values SET value = ? WHERE key = 'risk_state'", value)

    with pytest.raises(StateError, match=r"table key_values, key 'risk_state': column value: ") as info:
        repo.get("risk_state")

    assert str(info.value).startswith(f"{db_path.resolve()}: ")
    assert str(info.value).endswith("the saved state cannot be read; fix the row, or delete it to start without it")


def test_command_repository_bad_args_returned_as_text_with_warning(db, db_path, caplog):
    repo = CommandRepository(db)
    command_id = repo.submit("pause", {"reason": "lunch"}, "bob")
    _sql(db_path, "UPDATE commands SET args = '{bad', created_at = 'noon' WHERE id = ?", command_id)

    with caplog.at_level(logging.WARNING, logger="trading.storage.commands"):
        [cmd] = repo.pending()

    assert cmd["args"] == "{bad" and cmd["created_at"] is None
    assert [r.getMessage().split(": ", 2)[1] for r in caplog.records] == [
        f"table commands, id {command_id}",
        f"table commands, id {command_id}",
    ]


def test_audit_repository_bad_row_skipped(db, db_path, caplog):
    repo = AuditRepository(db)
    repo.add(ts=T0, action="flatten", rule="r", reason="x", result="ok")
    repo.add(ts=T0, action="lock", rule="r", reason="x", result="ok")
    _sql(db_path, "UPDATE audit SET ts = 'garbage' WHERE action = 'lock'")

    with caplog.at_level(logging.WARNING, logger="trading.storage.risk"):
        rows = repo.recent()

    assert [r["action"] for r in rows] == ["flatten"]
    assert "table audit, id 2: column ts: 'garbage' is not an ISO 8601 time: row skipped" in caplog.text
