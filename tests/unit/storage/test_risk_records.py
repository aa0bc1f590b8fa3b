"""RiskRepository: the rows of one risk decision written as one record, whole or not at all;
RuleStateRepository: the rules' saved states, read defensively."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from trading.errors import StateError, StorageError
from trading.storage import Database, RiskRepository, RuleStateRepository

T0 = datetime(2026, 1, 6, 15, 0, tzinfo=UTC)
DAY = date(2026, 1, 6)


def _violation(rule: str = "daily_realized_loss", severity: str = "CRITICAL") -> dict:
    return {
        "ts": T0,
        "rule": rule,
        "message": "daily realized loss -1,000.00 <= -1,000.00",
        "action": "flatten_and_lock",
        "severity": severity,
        "shadow": False,
        "symbol": None,
        "values": {"daily_realized": -1000.0},
        "event": "PositionClosed(...)",
    }


def _lock(scope: str = "account") -> dict:
    return {"scope": scope, "rule": "daily_realized_loss", "reason": "loss", "started_at": T0, "until": None}


def _audit(action: str) -> dict:
    return {"ts": T0, "action": action, "rule": "daily_realized_loss", "reason": "loss", "result": "ok"}


def _count(path: Path, table: str) -> int:
    with closing(sqlite3.connect(path)) as raw:
        return raw.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


def test_risk_repository_put_writes_one_record_in_one_transaction(db, db_path):
    repo = RiskRepository(db)

    assert repo.put(
        violations=[_violation()],
        lockouts={"account": _lock()},
        audits=[_audit("flatten"), _audit("lock")],
        rule_states={"daily_realized_loss": {"kind": "daily_realized_loss", "tripped": True}},
        trading_day=DAY,
        at=T0,
    )
    assert repo.flush()

    assert [_count(db_path, t) for t in ("violations", "lockouts", "audit", "rule_state")] == [1, 1, 2, 1]
    saved = repo.saved_rule_states()["daily_realized_loss"]
    assert (saved.trading_day, saved.state["tripped"]) == (DAY, True)
    assert repo.statistics() == (1, 0)


def test_risk_repository_a_record_with_a_bad_row_is_lost_whole_and_the_others_are_written(
    db, db_path, caplog
):
    repo = RiskRepository(db)
    # Act: three records in one batch; the middle one has a violation the table refuses
    repo.put(violations=[_violation("first")], lockouts={"ES": _lock("ES")})
    repo.put(
        violations=[_violation("bad", severity="FATAL")],
        lockouts={"account": _lock()},
        audits=[_audit("lock")],
    )
    repo.put(violations=[_violation("third")], audits=[_audit("flatten")])
    assert repo.flush()
    # Assert: none of the bad record's rows, all of the others'
    with closing(sqlite3.connect(db_path)) as raw:
        rules = [r[0] for r in raw.execute("SELECT rule FROM violations ORDER BY id")]
        scopes = [r[0] for r in raw.execute("SELECT scope FROM lockouts")]
        audits = [r[0] for r in raw.execute("SELECT action FROM audit")]
    assert (rules, scopes, audits) == (["first", "third"], ["ES"], ["flatten"])
    assert repo.statistics() == (2, 1)
    assert "risk records cannot store RiskRecord" in caplog.text and "got 'FATAL'" in caplog.text


def test_risk_repository_lockout_ended_in_a_record_removes_its_row(db, db_path):
    repo = RiskRepository(db)
    repo.put(lockouts={"account": _lock(), "ES": _lock("ES")})
    repo.put(lockouts={"account": None}, audits=[_audit("unlock")])
    assert repo.flush()

    assert [row["scope"] for row in repo.lockout_rows()] == ["ES"]


def test_risk_repository_write_is_committed_after_what_was_queued_before(db, db_path):
    # Arrange: a lock queued on the writer, then an unlock written at once
    repo = RiskRepository(db)
    repo.put(lockouts={"account": _lock()})
    # Act
    repo.write(lockouts={"account": None}, audits=[_audit("unlock")])
    # Assert: the queued lock did not land on top of the unlock
    assert _count(db_path, "lockouts") == 0
    assert _count(db_path, "audit") == 1


def test_risk_repository_rule_states_need_their_day_and_time(db):
    repo = RiskRepository(db)
    with pytest.raises(ValueError, match="rule states need the trading day and the time they were taken"):
        repo.put(rule_states={"r": {}})


def test_risk_repository_write_to_a_closed_database_raises(db_path):
    db = Database(db_path)
    repo = RiskRepository(db)
    db.close()
    with pytest.raises(StorageError, match="is closed"):
        repo.write(audits=[_audit("unlock")])


def test_rule_state_repository_damaged_row_names_itself(db, db_path):
    RuleStateRepository(db).save({"trailing_drawdown": {"high_water": "100"}}, trading_day=DAY, at=T0)
    with closing(sqlite3.connect(db_path)) as raw, raw:
        raw.execute("UPDATE rule_state SET trading_day = 'yesterday'")

    with pytest.raises(
        StateError, match=r"desk\.db: table rule_state, rule 'trailing_drawdown': .*yesterday"
    ):
        RuleStateRepository(db).load()


def test_rule_state_repository_save_replaces_and_keeps_other_rules(db):
    repo = RuleStateRepository(db)
    repo.save({"a": {"x": 1}, "b": {"x": 1}}, trading_day=DAY, at=T0)
    repo.save({"a": {"x": 2}}, trading_day=DAY + timedelta(days=1), at=T0 + timedelta(days=1))

    saved = repo.load()

    assert {name: (s.trading_day, s.state) for name, s in saved.items()} == {
        "a": (DAY + timedelta(days=1), {"x": 2}),
        "b": (DAY, {"x": 1}),
    }
