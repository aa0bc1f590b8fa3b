"""A desk restarted on damaged state files: every problem is named with its place and handled
(a clear refusal to start, or the bad item skipped), never a traceback, never time going back."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from trading.clock import TestClock
from trading.desk import Desk
from trading.desk.operators import local_operator_name
from trading.errors import StateError
from trading.state_dir import Heartbeat, StateDir
from trading.storage import CommandRepository, Database

from .conftest import ROOT, START, write_configs

EXECUTOR = ROOT / "scripts" / "run_executor.py"


def _sql(state: Path, statement: str, *args: object) -> None:
    with sqlite3.connect(StateDir(state).database) as conn:
        conn.execute(statement, args)


def _beat(state: Path, sim_time: datetime) -> None:
    state.mkdir(parents=True, exist_ok=True)
    Heartbeat(pid=1, ts=1.0, started_at=START, sim_time=sim_time, trading_state="ACTIVE").write(
        StateDir(state).heartbeat
    )


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_configs(tmp_path / "config")


@pytest.fixture
async def used_state(make_desk, tmp_path: Path) -> Path:
    """A state directory a desk has run on and stopped cleanly."""
    desk = make_desk()
    await desk.run_simulated(5)
    await desk.shutdown()
    return tmp_path / "state"


def test_desk_garbage_heartbeat_refuses_to_start(config, tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    StateDir(state).heartbeat.write_text("{garbage")

    with pytest.raises(
        StateError, match=r"heartbeat\.json: unreadable heartbeat \(.*could move its clock back"
    ):
        Desk.from_files(config, state_dir=state)

    assert not StateDir(state).database.exists()  # refused before anything was opened


def test_desk_restart_resumes_clock_from_heartbeat_never_back(config, tmp_path):
    ahead = datetime.now(UTC) + timedelta(days=30)
    _beat(tmp_path / "state", ahead)

    desk = Desk.from_files(config, state_dir=tmp_path / "state")
    try:
        assert desk.clock.now() >= ahead
    finally:
        desk.parts.close()


async def test_desk_restart_resumes_clock_from_journal_steps_after_the_last_heartbeat(config, tmp_path):
    # Arrange: a desk killed 300 simulated seconds after its last heartbeat (a fast clock)
    ahead = (datetime.now(UTC) + timedelta(days=30)).replace(microsecond=0)
    first = Desk.from_files(config, state_dir=tmp_path / "state", clock=TestClock(ahead))
    await first.run_simulated(300)
    first.parts.close()
    _beat(tmp_path / "state", ahead)
    with sqlite3.connect(StateDir(tmp_path / "state").database) as conn:
        (last,) = conn.execute("SELECT MAX(updated_at) FROM orders").fetchone()
    conn.close()
    assert datetime.fromisoformat(last) > ahead + timedelta(seconds=200)
    # Act
    desk = Desk.from_files(config, state_dir=tmp_path / "state")
    try:
        # Assert: never before the journal's last step
        assert desk.clock.now() >= datetime.fromisoformat(last)
    finally:
        desk.parts.close()


async def test_desk_restart_resumes_clock_from_a_risk_record_after_the_last_step(config, tmp_path):
    # Arrange: the last thing the killed desk wrote was a violation (a rule fired on a sweep)
    ahead = (datetime.now(UTC) + timedelta(days=30)).replace(microsecond=0)
    first = Desk.from_files(config, state_dir=tmp_path / "state", clock=TestClock(ahead))
    await first.run_simulated(60)
    first.parts.close()
    _beat(tmp_path / "state", ahead)
    fired = ahead + timedelta(hours=2)
    _sql(
        tmp_path / "state",
        'INSERT INTO violations (ts, rule, message, action, severity, shadow, symbol, "values", event) '
        "VALUES (?, 'trailing_drawdown', 'floor', 'flatten_and_lock', 'CRITICAL', 0, NULL, '{}', '')",
        fired.isoformat(),
    )
    # Act
    desk = Desk.from_files(config, state_dir=tmp_path / "state")
    try:
        # Assert
        assert desk.clock.now() >= fired
    finally:
        desk.parts.close()


def test_desk_heartbeat_in_year_9999_ignored_with_warning(config, tmp_path, caplog):
    _beat(tmp_path / "state", datetime(9999, 12, 31, 23, 0, tzinfo=UTC))

    desk = Desk.from_files(config, state_dir=tmp_path / "state")
    try:
        assert desk.clock.now() < datetime.now(UTC) + timedelta(days=1)
        assert "is more than 3660 days ahead" in caplog.text
    finally:
        desk.parts.close()


DROP_LOSS_STATE = "DELETE FROM rule_state WHERE rule = 'daily_realized_loss'"
DROP_DRAWDOWN_STATE = "DELETE FROM rule_state WHERE rule = 'trailing_drawdown'"


@pytest.mark.parametrize(
    ("statement", "match", "fix"),
    [
        (
            "UPDATE rule_state SET state = '{garbage' WHERE rule = 'daily_realized_loss'",
            r"desk\.db: table rule_state, rule 'daily_realized_loss': column state: not valid JSON",
            DROP_LOSS_STATE,
        ),
        (
            "UPDATE rule_state SET state = '{\"high_water\": \"lots\"}' WHERE rule = 'trailing_drawdown'",
            r"the saved state of rule 'trailing_drawdown' cannot be restored: ValueError",
            DROP_DRAWDOWN_STATE,
        ),
        (
            "INSERT INTO lockouts (scope, rule, reason, started_at, until) "
            "VALUES ('account', 'daily_realized_loss', 'loss', 'not-a-date', NULL)",
            r"desk\.db: table lockouts, scope 'account': column started_at: 'not-a-date' is not an ISO 8601 time",
            "DELETE FROM lockouts WHERE scope = 'account'",
        ),
    ],
)
def test_desk_damaged_risk_row_refuses_to_start_naming_it(used_state, config, statement, match, fix):
    _sql(used_state, statement)
    later = TestClock(START + timedelta(minutes=5))

    with pytest.raises(StateError, match=match):
        Desk.from_files(config, state_dir=used_state, clock=later)

    _sql(used_state, fix)  # what the message says to do
    desk = Desk.from_files(config, state_dir=used_state, clock=later)  # nothing was left locked or open
    desk.parts.close()


async def test_desk_command_with_bad_json_fails_with_reason(used_state, config):
    db = Database(StateDir(used_state).database)
    command_id = CommandRepository(db).submit("pause", {"reason": "lunch"}, local_operator_name())
    db.close()
    _sql(used_state, "UPDATE commands SET args = '{bad' WHERE id = ?", command_id)
    desk = Desk.from_files(config, state_dir=used_state, clock=TestClock(START + timedelta(minutes=5)))

    await desk.run_simulated(1)
    await desk.shutdown()

    db = Database(StateDir(used_state).database)
    cmd = CommandRepository(db).get(command_id)
    db.close()
    assert cmd is not None and cmd["status"] == "failed"
    assert cmd["result"] == "command 'pause' arguments must be a mapping of name to value, got '{bad'"
    assert not desk.risk.paused


def test_run_executor_damaged_lockout_row_exits_2_with_one_line(used_state, config):
    _sql(
        used_state,
        "INSERT INTO lockouts (scope, rule, reason, started_at) VALUES ('ES', 'r', 'x', 'garbage')",
    )

    result = subprocess.run(
        [
            sys.executable,
            str(EXECUTOR),
            "--config",
            str(config),
            "--state",
            str(used_state),
            "--duration",
            "5",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"run_executor.py: error: {StateDir(used_state).database}: table lockouts, scope 'ES': column started_at: "
        "'garbage' is not an ISO 8601 time: the lockout cannot be restored; fix the row, or delete it to lift the lockout"
    ]
